from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "Activities"

    def ready(self) -> None:
        from django.conf import settings

        from activities import logins  # noqa: F401 (counts failed sign-ins)
        from activities.expansion import kind  # noqa: F401 (registers the archive kind)
        from core import decode

        decode.MAX_POINTS = settings.CAIRN_MAX_POINTS  # core reads no settings itself
