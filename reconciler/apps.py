from django.apps import AppConfig


class ReconcilerConfig(AppConfig):
    name = "reconciler"
    verbose_name = "Reconciler"

    def ready(self) -> None:
        # Registers the kinds of work this app does (work.kinds).
        from reconciler import archive_kind, deletion_kind  # noqa: F401
