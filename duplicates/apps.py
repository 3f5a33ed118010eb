from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "duplicates"
    verbose_name = "Probable duplicates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activities import changes
        from duplicates import (
            flags,
            kind,  # noqa: F401 (registers the duplicates check kind)
            merging,
        )

        changes.deleted.connect(flags.deleted, dispatch_uid="duplicates.flags.deleted")
        changes.deleted.connect(merging.deleted, dispatch_uid="duplicates.merging.deleted")
