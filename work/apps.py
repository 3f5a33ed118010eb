from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "work"
    verbose_name = "Reconciled work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from work import tracing

        tracing.configure()
