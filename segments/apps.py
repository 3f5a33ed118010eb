from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments and efforts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activities import changes, panels
        from segments import (
            flags,
            kind,  # noqa: F401 (registers the segment and segment_match kinds)
            pages,
        )

        changes.deleted.connect(flags.deleted, dispatch_uid="segments.flags.deleted")
        changes.merged.connect(flags.merged, dispatch_uid="segments.flags.merged")
        # The efforts an activity holds, and the form saving a stretch of it, on its page.
        panels.add("activity-page", "segments", pages.activity_panel)
