from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing and privacy zones"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activities import changes
        from sharing import (
            flags,
            kind,  # noqa: F401 (registers the public-copy kind)
        )

        changes.edited.connect(flags.edited, dispatch_uid="sharing.flags.edited")
        changes.deleted.connect(flags.deleted, dispatch_uid="sharing.flags.deleted")
        changes.merged.connect(flags.merged, dispatch_uid="sharing.flags.merged")
