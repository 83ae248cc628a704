from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from triage import services
from triage.models import ClassifierVersion


class Command(BaseCommand):
    help = (
        "Train a classifier on the corpus and staff-confirmed labels, then activate it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-activate", action="store_true")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Only train if no model is active.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_missing"] and ClassifierVersion.objects.active():
            try:
                services.active_model()
                return
            except Exception as exc:  # unusable artefact: train a fresh one
                self.stderr.write(f"Active model unusable ({exc}); retraining.")
        version = services.train_classifier(activate=not options["no_activate"])
        state = "activated" if version.is_active else "stored (not active)"
        self.stdout.write(f"Model {version.version} {state}.")
        self.stdout.write(json.dumps(version.metrics, indent=2))
