from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from triage import tasks


class Command(BaseCommand):
    help = "Re-enqueue stale unclassified enquiries (in-process if broker is down)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(tasks.sweep()))
