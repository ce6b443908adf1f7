"""Database helpers the ORM has no single call for."""

import hashlib

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


def insert_all_unless_exist(instances, unique_field):
    """Insert these new instances of one model, each unless a row with its value of
    `unique_field` exists; returns the instances inserted (their pk set).

    One statement for them all, INSERT ... ON CONFLICT DO NOTHING RETURNING, as
    insert_unless_exists does for one.
    """
    instances = list(instances)
    if not instances:
        return []
    model = type(instances[0])
    using = router.db_for_write(model, instance=instances[0])
    connection = transaction.get_connection(using)
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    unique = meta.get_field(unique_field)
    values = []
    for instance in instances:
        values += [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    row = f"({', '.join(['%s'] * len(fields))})"
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(instances))} "  # noqa: S608
        f"ON CONFLICT ({quote(unique.column)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}, {quote(unique.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        inserted = dict((value, pk) for pk, value in cursor.fetchall())
    done = []
    for instance in instances:
        pk = inserted.get(getattr(instance, unique.attname))
        if pk is not None:
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = using
            done.append(instance)
    return done


def serialize_on(names, using=None):
    """Hold a lock on each of these names until the current transaction ends, so that
    transactions about the same thing run one after the other.

    PostgreSQL's transaction-level advisory locks, taken in a fixed order so that two
    transactions naming the same things cannot deadlock, in one statement. SQLite
    (development only) lets one transaction write at a time anyway.
    """
    connection = transaction.get_connection(using)
    names = sorted(set(names))
    if connection.vendor != "postgresql" or not names:
        return
    numbers = [_lock_number(name) for name in names]
    calls = ", ".join(["pg_advisory_xact_lock(%s)"] * len(numbers))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", numbers)  # noqa: S608 (placeholders only)


def _lock_number(name):
    """A stable signed 64-bit number for a name (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
