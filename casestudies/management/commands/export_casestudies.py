from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from casestudies import services


class Command(BaseCommand):
    help = "Print every published case study as JSONL (the import format)."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in services.export_case_studies():
            self.stdout.write(line)
