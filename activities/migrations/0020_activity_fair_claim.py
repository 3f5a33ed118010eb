"""The index of the claim shared among owners (reconciler.derivation.kind.CLAIM_DUE): due work by
priority and owner, nobody's lease on it, not being deleted; with due_at and attempts, it
also counts those rows by state from the index alone (work.drift)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0019_profile_time_zone"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("lease_token__isnull", True),
                                   ("needs_work", True)),
                fields=["priority", "owner", "pending_since"], include=("due_at", "attempts"),
                name="activity_fair"),
        ),
    ]
