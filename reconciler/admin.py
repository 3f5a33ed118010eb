"""Admin for activities' reconcile state, attempts and rollouts, with the re-sync actions.

The actions call reconciler.derivation.resync, as the `resync` command does.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from activities import deletion
from activities.models import Activity, Derived
from core import derivers
from reconciler.derivation import resync
from reconciler.models import Rollout, RolloutAction, Worker
from work import clock
from work.models import Attempt

RECONCILE_FIELDS = ("status", "error_code", "error_message", "needs_work", "generation",
                    "priority", "due_at", "pending_since", "lease_owner", "lease_token",
                    "lease_expires_at", "attempts", "processed_at")


class DerivedInline(admin.TabularInline):
    model = Derived
    fields = ("deriver", "version", "status", "error_code", "error_message", "duration_ms",
              "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class OldVersionFilter(admin.SimpleListFilter):
    """Activities whose output of one deriver is older than this code's version."""

    title = "old-version output"
    parameter_name = "old_version"

    def lookups(self, request, model_admin):
        return [(d.name, d.name) for d in derivers.ALL]

    def queryset(self, request, queryset):
        deriver = derivers.BY_NAME.get(self.value() or "")
        if deriver is None:
            return queryset
        return queryset.filter(derived__deriver=deriver.name,
                               derived__version__lt=deriver.version)


class StateFilter(admin.SimpleListFilter):
    """The status as shown (Activity.state): `processing` is read from the lease."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Activity.Status.choices

    def queryset(self, request, queryset):
        if self.value() == Activity.Status.PROCESSING:
            return queryset.filter(lease_token__isnull=False)
        if self.value() in Activity.Status.values:
            return queryset.filter(status=self.value(), lease_token__isnull=True)
        return queryset


def _resync_one(deriver: str):
    def action(modeladmin, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = resync.resync(queryset, now=clock.now(), deriver=deriver,
                              priority=Activity.Priority.FRESH)
        modeladmin.message_user(request, f"Re-sync of {deriver} requested for {count} "
                                f"activit{'y' if count == 1 else 'ies'}.", messages.SUCCESS)

    action.__name__ = f"resync_{deriver}"
    return admin.action(description=f"Re-sync only {deriver} (and what reads it)")(action)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "format", "state", "error_code", "attempts",
                    "due_at", "created_at", "deleted_at")
    list_filter = (StateFilter, OldVersionFilter, "needs_work", "format")
    search_fields = ("=id", "owner__username", "sha256", "name")
    readonly_fields = ("owner", "upload", "format", "sha256", "file_name", "size_bytes",
                       "created_at", "deleted_at", *RECONCILE_FIELDS)
    inlines = [DerivedInline]
    actions = ["force_resync", "replay_dead", "delete_for_owner",
               *(_resync_one(d.name) for d in derivers.ALL)]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # One way to delete: the reconciled one (delete_for_owner), never a bare DELETE.
        return False

    @admin.action(description="Delete (hidden now; the sweep removes the rows)")
    def delete_for_owner(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = len(deletion.request(queryset, now=clock.now()))
        self.message_user(request, f"Deleted {count} activit"
                          f"{'y' if count == 1 else 'ies'}.", messages.SUCCESS)

    @admin.action(description="Force re-sync (rebuild every derived output)")
    def force_resync(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = resync.resync(queryset, now=clock.now(), revive_dead=True,
                              priority=Activity.Priority.FRESH)
        self.message_user(request, f"Re-sync requested for {count} activit"
                          f"{'y' if count == 1 else 'ies'}.", messages.SUCCESS)

    @admin.action(description="Replay dead activities")
    def replay_dead(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = resync.resync(queryset.filter(status=Activity.Status.DEAD), now=clock.now(),
                              revive_dead=True, priority=Activity.Priority.FRESH)
        self.message_user(request, f"Replayed {count} dead activit"
                          f"{'y' if count == 1 else 'ies'}.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    """The one attempt log of every kind of work (an activity's: kind "activity", row id
    its id)."""

    list_display = ("id", "kind", "row_id", "trigger", "worker", "outcome", "started_at",
                    "ended_at", "error_code")
    list_filter = ("kind", "outcome", "trigger")
    search_fields = ("=row_id", "worker", "lease_token")


class RolloutActionInline(admin.TabularInline):
    """Who did what to the rollout, and when (reconciler.rollouts.ops records every action)."""

    model = RolloutAction
    fields = ("at", "action", "by", "from_state", "to_state", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Rollout)
class RolloutAdmin(ReadOnlyAdmin):
    """Read-only: the state changes through `rollout` or the staff rollouts page, so that
    every change is a recorded, conditional one."""

    list_display = ("deriver", "version", "state", "throttle_per_min", "cursor", "flagged",
                    "started_at", "promoted_at", "finished_at")
    list_filter = ("state", "deriver")
    inlines = [RolloutActionInline]


@admin.register(RolloutAction)
class RolloutActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "rollout", "action", "by", "from_state", "to_state", "detail")
    list_filter = ("action",)
    search_fields = ("by",)


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ("id", "versions", "started_at", "last_seen")
