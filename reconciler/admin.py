"""Admin for the reconciler's records: attempts and rollouts (read-only)."""

from django.contrib import admin

from reconciler.models import Attempt, Rollout


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "activity", "trigger", "worker", "outcome", "started_at", "ended_at",
                    "error_code")
    list_filter = ("outcome", "trigger")
    search_fields = ("=activity__id", "worker", "lease_token")


@admin.register(Rollout)
class RolloutAdmin(ReadOnlyAdmin):
    list_display = ("deriver", "version", "cursor", "flagged", "started_at", "finished_at")
