from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from activities import changes
        from webhooks import (
            destinations,
            events,
            kind,  # noqa: F401 (registers deliveries)
        )

        changes.edited.connect(events.on_edit, dispatch_uid="webhooks.events.edited")
        changes.deleted.connect(events.on_delete, dispatch_uid="webhooks.events.deleted")

        # A mistyped network must stop the start, not every delivery later.
        try:
            destinations.allowed_networks()
        except ValueError as error:
            raise ImproperlyConfigured(f"CAIRN_WEBHOOK_ALLOW_NETWORKS: {error}") from None
