"""The one named django-q2 schedule that runs the sweep (DESIGN.md, django-q2 section).

q2's scheduler wakes about every 30 s and its schedules count in minutes, so the row runs
every max(1, CAIRN_SWEEP_INTERVAL_S // 60) minutes; anything quicker uses
`reconcile --loop`. Catch-up is off in Q_CLUSTER, so missed runs are not replayed.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "cairn-sweep"
FUNC = "reconciler.tasks.sweep_due"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": FUNC,
            "schedule_type": "I",  # MINUTES
            "minutes": max(1, settings.CAIRN_SWEEP_INTERVAL_S // 60),
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciler", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
