"""Activities named after their file (the old default: `tormoder__garmin` for
tormoder__garmin.fit, `1` for an export's activities/1.gpx) lose that name, so that the
derived title shows instead (core/titles.py). A name anyone typed is kept: only a name
equal to its own file's stem, as the old code made it, is cleared."""

from django.db import migrations

_SUFFIXES = (".gz", ".fit", ".gpx", ".FIT", ".GPX")
_CHUNK = 2000


def _stem(name: str) -> str:
    # What activities/ingest.py's _default_name made of a file name, until titles.
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    for suffix in _SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem[:255]


def clear_file_names(apps, schema_editor):
    Activity = apps.get_model("activities", "Activity")
    ArchiveMember = apps.get_model("activities", "ArchiveMember")
    named = (Activity.objects.exclude(name="").order_by("id")
             .values_list("id", "name", "upload__kind", "upload__original_name"))
    last = 0
    while chunk := list(named.filter(id__gt=last)[:_CHUNK]):
        last = chunk[-1][0]
        members: dict[int, set[str]] = {}
        for activity_id, member in ArchiveMember.objects.filter(
                activity_id__in=[row[0] for row in chunk]).values_list("activity_id", "name"):
            members.setdefault(activity_id, set()).add(_stem(member))
        cleared = [activity_id for activity_id, name, kind, original in chunk
                   if (kind == "file" and name == _stem(original))
                   or name in members.get(activity_id, ())]
        Activity.objects.filter(id__in=cleared).update(name="")


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0013_archive_member_missing"),
    ]

    operations = [
        migrations.RunPython(clear_file_names, migrations.RunPython.noop, elidable=True),
    ]
