"""Statistics on which versions each deriver's outputs have, for the planner.

The rollout's straggler look (reconciler.rollouts._old_outputs: outputs of deriver D
older than version V, `deriver = D AND version < V`) is served by derived_by_version and
normally finds nothing. Without these statistics PostgreSQL multiplies the two columns'
selectivities as if independent: with eight derivers at versions 1 to 4, "deriver =
'track' AND version < 4" looks like a ninth of the table, and it reads derived whole
(Seq Scan) every minute per sweeper, growing with the table. The MCV list of the pair
says that no track output is below version 4, and the index is probed instead.
PostgreSQL only (SQLite has no extended statistics and plans this by the index anyway).
"""

from django.db import migrations

CREATE = ("CREATE STATISTICS IF NOT EXISTS derived_deriver_version (mcv, dependencies) "
          "ON deriver, version FROM activities_derived")
DROP = "DROP STATISTICS IF EXISTS derived_deriver_version"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("activities", "0017_archive_nested_members")]

    operations = [migrations.RunPython(create, drop)]
