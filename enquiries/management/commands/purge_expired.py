from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand

from enquiries import privacy


class Command(BaseCommand):
    help = "Delete or anonymise what has passed its retention period (also on beat)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(asdict(privacy.purge_expired())))
