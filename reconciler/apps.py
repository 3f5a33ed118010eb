from django.apps import AppConfig


class ReconcilerConfig(AppConfig):
    name = "reconciler"
    verbose_name = "Reconciler"

    def ready(self) -> None:
        # Registers the kinds of work this app does (work.kinds), in the order the sweep
        # runs them: previews only in a round the activities left idle.
        from reconciler import archive_kind, deletion_kind, kind, nudges, preview_kind  # noqa: F401
        from work import triggers

        # What starts a committed upload or archive soon (activities name the row only).
        triggers.handle("activity", nudges.after_upload)
        triggers.handle("archive", nudges.after_archive)
