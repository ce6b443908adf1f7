"""A database cache whose counters stay exact when several workers count at once."""

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class CounterDatabaseCache(DatabaseCache):
    """Django's database cache with an atomic incr(), for the rate-limit counters.

    The stock incr() reads and then writes, so two workers counting the same key at the
    same moment would both write the same number. Here the row is locked first
    (SELECT ... FOR UPDATE; on SQLite the IMMEDIATE transaction takes the write lock).
    Like the stock one, it gives the entry the cache's default timeout again.
    """

    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.features.has_select_for_update:
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",  # noqa: S608
                        [self.make_and_validate_key(key, version=version)],
                    )
            return super().incr(key, delta, version=version)
