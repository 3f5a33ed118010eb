from django.apps import AppConfig


class ReconcilerConfig(AppConfig):
    name = "reconciler"
    verbose_name = "Reconciler"

    def ready(self) -> None:
        # Registers the kinds "activity" and "preview" (work.kinds), in the order the
        # sweep runs them: previews only in a round the activities left idle.
        from reconciler import kind, preview_kind  # noqa: F401
