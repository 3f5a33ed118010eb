from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Records, totals and heatmaps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activities import changes
        from records import (
            flags,
            kind,  # noqa: F401 (registers the book kind)
        )

        changes.edited.connect(flags.edited, dispatch_uid="records.flags.edited")
        changes.zone_changed.connect(flags.zone_changed, dispatch_uid="records.flags.zone")
        changes.deleted.connect(flags.deleted, dispatch_uid="records.flags.deleted")
        changes.merged.connect(flags.merged, dispatch_uid="records.flags.merged")
