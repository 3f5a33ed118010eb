"""Activities' attempts move into the kernel's one log (work.Attempt: kind "activity", the
row id its activity's, derivers run in `detail`), and preview samples get the kernel's
lease fields (the kind "preview")."""

from django.db import migrations, models
from django.utils import timezone

#: Rows copied per statement (a log of millions of attempts moves in bounded steps).
CHUNK = 5000


def to_work(apps, schema_editor):
    """Copy every activity attempt into work.Attempt (new ids: the log holds other kinds'
    attempts too), every field kept."""
    Old = apps.get_model("reconciler", "Attempt")
    New = apps.get_model("work", "Attempt")
    rows = Old.objects.order_by("id").iterator(chunk_size=CHUNK)
    batch = []
    for old in rows:
        batch.append(New(
            kind="activity", row_id=old.activity_id, trigger=old.trigger, worker=old.worker,
            lease_token=old.lease_token, versions=old.versions or {},
            started_at=old.started_at, held_until=old.held_until, ended_at=old.ended_at,
            outcome=old.outcome, detail={"derivers": old.derivers_run or []},
            error_code=old.error_code, error_message=old.error_message))
        if len(batch) >= CHUNK:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)


def from_work(apps, schema_editor):
    """Back: the activity attempts of work.Attempt whose activity still exists."""
    Old = apps.get_model("reconciler", "Attempt")
    New = apps.get_model("work", "Attempt")
    Activity = apps.get_model("activities", "Activity")
    batch = []
    for new in New.objects.filter(kind="activity").order_by("id").iterator(chunk_size=CHUNK):
        batch.append(Old(
            activity_id=new.row_id, trigger=new.trigger, worker=new.worker,
            lease_token=new.lease_token, versions=new.versions, started_at=new.started_at,
            held_until=new.held_until, ended_at=new.ended_at,
            outcome=new.outcome if new.outcome != "waiting" else "retrying",
            derivers_run=(new.detail or {}).get("derivers", []), error_code=new.error_code,
            error_message=new.error_message))
        if len(batch) >= CHUNK:
            _insert_live(Old, Activity, batch)
            batch = []
    _insert_live(Old, Activity, batch)
    New.objects.filter(kind="activity").delete()


def _insert_live(Old, Activity, batch):
    live = set(Activity.objects.filter(id__in={a.activity_id for a in batch})
               .values_list("id", flat=True))
    Old.objects.bulk_create([a for a in batch if a.activity_id in live])


def samples_due(apps, schema_editor):
    """A sample not yet computed needs work; a computed one is settled."""
    Sample = apps.get_model("reconciler", "PreviewSample")
    Sample.objects.exclude(computed_at=None).update(needs_work=False, pending_since=None)


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0001_initial"),
        ("reconciler", "0006_rollout_control"),
        ("work", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_work, from_work, elidable=True),
        migrations.DeleteModel(name="Attempt"),
        migrations.RemoveIndex(model_name="previewsample", name="preview_sample_pending"),
        migrations.RemoveField(model_name="previewsample", name="leased_until"),
        migrations.AddField(
            model_name="previewsample", name="needs_work",
            field=models.BooleanField(default=True)),
        migrations.AddField(
            model_name="previewsample", name="generation",
            field=models.PositiveIntegerField(default=1)),
        migrations.AddField(
            model_name="previewsample", name="priority",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "fresh"), (1, "backfill")], default=0)),
        migrations.AddField(
            model_name="previewsample", name="due_at",
            field=models.DateTimeField(default=timezone.now), preserve_default=False),
        migrations.AddField(
            model_name="previewsample", name="pending_since",
            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="previewsample", name="lease_owner",
            field=models.CharField(blank=True, max_length=255)),
        migrations.AddField(
            model_name="previewsample", name="lease_token",
            field=models.CharField(blank=True, max_length=32, null=True)),
        migrations.AddField(
            model_name="previewsample", name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="previewsample", name="attempts",
            field=models.PositiveIntegerField(default=0, help_text="Failed attempts in a row.")),
        migrations.RunPython(samples_due, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="previewsample",
            index=models.Index(condition=models.Q(("needs_work", True)), fields=["rollout", "id"],
                               name="preview_sample_pending")),
    ]
