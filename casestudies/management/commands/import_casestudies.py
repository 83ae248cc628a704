from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casestudies import services


class Command(BaseCommand):
    help = (
        "Import case studies from JSONL (upsert by slug, as published, all or nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            created, updated = services.import_case_studies(lines=lines)
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"Cannot read {path}: {exc}")
            sys.exit(2)
        except services.ImportError_ as exc:
            self.stderr.write(f"{path}: {exc}. Nothing was imported.")
            sys.exit(2)
        self.stdout.write(f"Imported {created} new and {updated} updated case studies.")
