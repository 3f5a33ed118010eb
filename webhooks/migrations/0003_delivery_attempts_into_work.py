"""A delivery's tries move into the one attempt log (work.Attempt, kind "delivery"): the
status code and duration go into its `detail`; then the table goes."""

from datetime import timedelta

from django.db import migrations

BATCH = 2000


def copy(apps, schema_editor):
    DeliveryAttempt = apps.get_model("webhooks", "DeliveryAttempt")
    Attempt = apps.get_model("work", "Attempt")
    dead = set(apps.get_model("webhooks", "Delivery").objects.filter(status="dead")
               .values_list("id", flat=True))
    last = {}  # each dead delivery's last try is the one that made it dead
    for row_id, try_id in DeliveryAttempt.objects.filter(delivery_id__in=dead).order_by(
            "started_at", "id").values_list("delivery_id", "id"):
        last[row_id] = try_id
    batch = []
    for row in DeliveryAttempt.objects.order_by("id").iterator(chunk_size=BATCH):
        ok = row.status_code is not None and 200 <= row.status_code < 300
        ended = row.started_at + timedelta(milliseconds=row.duration_ms)
        outcome = "converged" if ok else "dead" if last.get(row.delivery_id) == row.id \
            else "retrying"
        code = "" if ok else "NoAnswer" if row.status_code is None else "ReceiverError"
        batch.append(Attempt(
            kind="delivery", row_id=row.delivery_id, trigger="sweep", worker="",
            lease_token="", versions={}, started_at=row.started_at, held_until=ended,
            ended_at=ended, outcome=outcome,
            detail={"status_code": row.status_code, "duration_ms": row.duration_ms},
            error_code=code, error_message=row.error))
        if len(batch) == BATCH:
            Attempt.objects.bulk_create(batch)
            batch = []
    Attempt.objects.bulk_create(batch)


def uncopy(apps, schema_editor):
    DeliveryAttempt = apps.get_model("webhooks", "DeliveryAttempt")
    Attempt = apps.get_model("work", "Attempt")
    tries = Attempt.objects.filter(kind="delivery").exclude(ended_at=None)
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(delivery_id=row.row_id, started_at=row.started_at,
                        duration_ms=row.detail.get("duration_ms") or 0,
                        status_code=row.detail.get("status_code"), error=row.error_message)
        for row in tries.order_by("id").iterator()
        if "duration_ms" in row.detail)  # posted: not a worker that died or a wait
    Attempt.objects.filter(kind="delivery").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0002_challenges_delivery_windows"),
        ("work", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy, uncopy),
        migrations.DeleteModel(name="DeliveryAttempt"),
    ]
