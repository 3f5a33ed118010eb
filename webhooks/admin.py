"""Admin for webhook subscriptions and deliveries, with the replay action (the same
function `replay_webhooks` calls)."""

from django.contrib import admin, messages

from webhooks import outbox
from webhooks.models import Breaker, Delivery, DeliveryAttempt, Subscription
from work import clock


class TriesInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("started_at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "url", "created_at")
    list_filter = ("kind",)
    search_fields = ("url", "owner__username")
    exclude = ("secret",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "subscription", "destination", "status", "attempts",
                    "due_at", "created_at", "delivered_at")
    list_filter = ("status", "event")
    search_fields = ("message_id", "destination")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [TriesInline]
    actions = ["replay_dead"]

    @admin.action(description="Replay the selected dead deliveries")
    def replay_dead(self, request, queryset):
        n = outbox.replay(queryset, now=clock.now())
        self.message_user(request, f"Replaying {n} dead delivery(ies).", messages.SUCCESS)


@admin.register(Breaker)
class BreakerAdmin(admin.ModelAdmin):
    list_display = ("destination", "failures", "open_until", "probe_until")
