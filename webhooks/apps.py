from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks import destinations, kind  # noqa: F401 (kind: registers deliveries)

        # A mistyped network must stop the start, not every delivery later.
        try:
            destinations.allowed_networks()
        except ValueError as error:
            raise ImproperlyConfigured(f"CAIRN_WEBHOOK_ALLOW_NETWORKS: {error}") from None
