"""A book's attempts move into the one attempt log (work.Attempt, kind "book"): what was
the BookAttempt's mode, activities read and duration goes into its `detail`; then the
table goes."""

from django.db import migrations

BATCH = 2000


def copy(apps, schema_editor):
    BookAttempt = apps.get_model("records", "BookAttempt")
    Attempt = apps.get_model("work", "Attempt")
    rows = BookAttempt.objects.order_by("id").iterator(chunk_size=BATCH)
    batch = []
    for row in rows:
        batch.append(Attempt(
            kind="book", row_id=row.book_id, trigger="sweep", worker=row.worker,
            lease_token=row.lease_token, versions={}, started_at=row.started_at,
            # The old log kept no lease interval: its end is the best bound there is.
            held_until=row.ended_at or row.started_at, ended_at=row.ended_at,
            outcome=row.outcome,
            detail={"mode": row.mode, "activities_read": row.activities_read,
                    "duration_ms": row.duration_ms},
            error_code=row.error_code, error_message=row.error_message))
        if len(batch) == BATCH:
            Attempt.objects.bulk_create(batch)
            batch = []
    Attempt.objects.bulk_create(batch)


def uncopy(apps, schema_editor):
    BookAttempt = apps.get_model("records", "BookAttempt")
    Attempt = apps.get_model("work", "Attempt")
    BookAttempt.objects.bulk_create(
        BookAttempt(book_id=row.row_id, worker=row.worker, lease_token=row.lease_token,
                    started_at=row.started_at, ended_at=row.ended_at, outcome=row.outcome,
                    mode=row.detail.get("mode", ""),
                    activities_read=row.detail.get("activities_read", 0),
                    duration_ms=row.detail.get("duration_ms", 0),
                    error_code=row.error_code, error_message=row.error_message)
        for row in Attempt.objects.filter(kind="book").order_by("id").iterator())
    Attempt.objects.filter(kind="book").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0002_book_by_version"),
        ("work", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy, uncopy),
        migrations.DeleteModel(name="BookAttempt"),
    ]
