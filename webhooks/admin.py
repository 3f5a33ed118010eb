"""Admin for webhook subscriptions and deliveries, with the replay action (the same
function `replay_webhooks` calls)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from webhooks import outbox, views
from webhooks.models import Breaker, Delivery, Subscription
from work import clock


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
    readonly_fields = [*(f.name for f in Delivery._meta.fields), "tries"]
    actions = ["replay_dead"]

    @admin.display(description="Tries (from the attempt log)")
    def tries(self, delivery: Delivery) -> str:
        shown = views.delivery_dict(delivery, views.tries_of([delivery])[delivery.id])["tries"]
        if not shown:
            return "No tries yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (t["at"], t["status_code"] or "", t["duration_ms"], t["error"]) for t in shown))
        return format_html("<table><thead><tr><th>At</th><th>Status code</th><th>ms</th>"
                           "<th>Error</th></tr></thead><tbody>{}</tbody></table>", body)

    @admin.action(description="Replay the selected dead deliveries")
    def replay_dead(self, request, queryset):
        n = outbox.replay(queryset, now=clock.now())
        self.message_user(request, f"Replaying {n} dead delivery(ies).", messages.SUCCESS)


@admin.register(Breaker)
class BreakerAdmin(admin.ModelAdmin):
    list_display = ("destination", "failures", "open_until", "probe_until")
