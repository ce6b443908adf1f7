"""The tables of the database caches (settings.CACHES without REDIS_URL).

They are made here rather than by `manage.py createcachetable`, so that every
database the site migrates has them, whatever CACHES says at the time.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

CACHE_TABLES = ("podari_cache", "podari_ratelimit")


def create_tables(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    for table in CACHE_TABLES:
        # Skips a table that already exists.
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


def drop_tables(apps, schema_editor):
    for table in CACHE_TABLES:
        schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_tables, drop_tables)]
