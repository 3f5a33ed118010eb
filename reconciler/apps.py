from django.apps import AppConfig


class ReconcilerConfig(AppConfig):
    name = "reconciler"
    verbose_name = "Reconciler"

    def ready(self) -> None:
        # Registers the kinds of work this app does (work.kinds); the sweep runs them in
        # its own order (reconciler.sweep.ORDER).
        from activities import changes, currency
        from reconciler import nudges
        from reconciler.deletions import kind as _deletion  # noqa: F401
        from reconciler.derivation import flags
        from reconciler.derivation import kind as _activity  # noqa: F401
        from reconciler.rollouts import preview_kind as _preview  # noqa: F401
        from reconciler.rollouts import state as rollout_state
        from work import triggers

        # What starts a committed upload or archive soon (activities name the row only).
        triggers.handle("activity", nudges.after_upload)
        triggers.handle("archive", nudges.after_archive)

        # A revision (a crop, a split...) has the tracks it changed derived again.
        changes.revised.connect(flags.revised, dispatch_uid="reconciler.flags.revised")

        # What activities show as current follows the operators' rollouts.
        currency.held_by(rollout_state.held)
