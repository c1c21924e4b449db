"""The database cache tables (``CACHES``), made by ``migrate`` too, so a release that adds one
(the library's shared search results) works after the usual ``migrate`` even where
``createcachetable`` was not run: a missing table would fail every library change."""

from django.core.management import call_command
from django.db import migrations


def make_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_outgoing_email_headers")]

    operations = [migrations.RunPython(make_cache_tables, migrations.RunPython.noop)]
