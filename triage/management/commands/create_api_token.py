from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser

from triage import services


class Command(BaseCommand):
    help = "Create an API token for a staff user and print it once (stored hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not user.is_staff:
            self.stderr.write(f"No active staff user called {username!r}")
            sys.exit(2)
        self.stdout.write(services.create_api_token(user=user))
