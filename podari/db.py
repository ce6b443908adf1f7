"""Database helpers the ORM has no single call for."""

from django.db import router, transaction


def insert_unless_exists(instance, unique_field):
    """Insert a new model instance unless a row with the same value of `unique_field`
    exists. True when this inserted it (instance.pk is then set).

    One statement, INSERT ... ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite):
    a second insert of the same value, even at the same moment, waits on the unique
    index until the first one's transaction ends, then inserts nothing. (bulk_create's
    ignore_conflicts cannot tell which happened; a savepoint around save() could, at two
    more statements.)
    """
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    connection = transaction.get_connection(using)
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    # Names from the model's own meta, quoted; every value is a bound parameter.
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "  # noqa: S608
        f"ON CONFLICT ({quote(meta.get_field(unique_field).column)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = using
    return True
