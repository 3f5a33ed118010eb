"""`create_api_token USER [--create-user]`: print a new API token, alone, on stdout."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from activities import caps, tokens


class Command(BaseCommand):
    help = "Create an API token for a user and print it (the only time it is shown)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create-user", action="store_true",
                            help="Create the user (without a password) if missing.")

    def handle(self, *args, username, create_user, **options):
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r} (add --create-user to create one).")
            user = users.create_user(username=username)
            self.stderr.write(f"Created user {username!r}.")
        try:
            self.stdout.write(tokens.create(user))
        except caps.Reached as error:
            raise CommandError(f"{error} (CAIRN_MAX_API_TOKENS)") from None
