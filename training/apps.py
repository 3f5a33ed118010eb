from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training load, fitness and thresholds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activities import changes, maxhr, panels
        from training import (
            flags,
            kind,  # noqa: F401 (registers the training book kind)
            pages,
            thresholds,
        )

        changes.edited.connect(flags.edited, dispatch_uid="training.flags.edited")
        changes.deleted.connect(flags.deleted, dispatch_uid="training.flags.deleted")
        changes.merged.connect(flags.merged, dispatch_uid="training.flags.merged")
        changes.zone_changed.connect(flags.profile_changed, dispatch_uid="training.flags.zone")
        changes.max_hr_changed.connect(flags.profile_changed,
                                       dispatch_uid="training.flags.max_hr")
        maxhr.dated_by(thresholds.max_hr_on)
        # The records page shows the power curve (records cannot import training).
        panels.add("records-page", "power-curve", pages.power_curve_panel)
