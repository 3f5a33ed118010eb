from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts: sign-up and invitations"
    default_auto_field = "django.db.models.BigAutoField"
