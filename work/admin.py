"""The admin of every registered kind: a filter by reconcile state (due, leased, orphaned,
dead) and a "replay" action on its model's list, added to whatever admin the kind's app
registered (or a plain read-only one), so that a kind registered appears there too.

`equip(site)` runs when the URLs are loaded (settings/urls.py): the kinds register in
their apps' ready(), after the admin has discovered its modules."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from work import clock, kinds
from work.kinds import Kind
from work.replay import replay


def state_filter(kind: Kind) -> type[admin.SimpleListFilter]:
    """A list filter over the kind's rows by reconcile state."""

    def states(now) -> dict[str, Q]:
        unleased, leased = Q(lease_token__isnull=True), Q(lease_token__isnull=False)
        return {
            "due": Q(needs_work=True, due_at__lte=now) & unleased,
            "leased": Q(needs_work=True, lease_expires_at__gt=now) & leased,
            # Its holder stopped: the next claim takes it over, alone and first.
            "orphaned": Q(needs_work=True, lease_expires_at__lte=now) & leased,
            "dead": kind.dead(),
        }

    class StateFilter(admin.SimpleListFilter):
        title = f"{kind.label} (work)"
        parameter_name = f"work_{kind.name}"

        def lookups(self, request, model_admin):
            return [(state, state) for state in ("due", "leased", "orphaned", "dead")]

        def queryset(self, request, queryset):
            wanted = states(clock.now()).get(self.value() or "")
            return queryset if wanted is None else queryset.filter(kind.rows(), wanted)

    StateFilter.__name__ = f"{kind.name.title()}StateFilter"
    return StateFilter


def replay_action(kind: Kind):
    """The admin action: the selected dead rows are due again, first in line."""

    def action(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
        n = replay(kind, queryset, now=clock.now())
        modeladmin.message_user(request, f"{n} dead {kind.label} replayed (of "
                                f"{queryset.count()} selected; the others were not dead).",
                                messages.SUCCESS)

    action.__name__ = f"replay_{kind.name}"
    return admin.action(description=f"Replay the selected dead {kind.label}")(action)


class KindAdmin(admin.ModelAdmin):
    """For a kind's table whose app registered no admin of its own: look, and replay."""

    list_display = ("id", "needs_work", "due_at", "attempts", "lease_owner",
                    "lease_expires_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def equip(site: admin.AdminSite) -> None:
    """Add every registered kind's filter and replay action to its model's admin (once)."""
    for kind in kinds.ALL.values():
        if not site.is_registered(kind.model):
            site.register(kind.model, KindAdmin)
        model_admin = site.get_model_admin(kind.model)
        parameter = f"work_{kind.name}"
        filters = list(model_admin.list_filter)
        if not any(getattr(f, "parameter_name", None) == parameter for f in filters):
            model_admin.list_filter = (*filters, state_filter(kind))
        name = f"replay_{kind.name}"
        actions = list(model_admin.actions or [])
        if not any(getattr(a, "__name__", a) == name for a in actions):
            model_admin.actions = (*actions, replay_action(kind))
