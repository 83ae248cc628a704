from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casestudies.models import CaseStudy
from triage import classifier, services


class Command(BaseCommand):
    help = "Classify enquiries from JSONL; print one JSON line each (no DB writes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--output", type=Path)

    def handle(
        self, *args: Any, path: Path, output: Path | None, **options: Any
    ) -> None:
        try:
            rows = services.read_enquiry_lines(
                path.read_text(encoding="utf-8").splitlines()
            )
            model = services.active_model()
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"Cannot read {path}: {exc}")
            sys.exit(2)
        except services.BadLine as exc:
            self.stderr.write(f"{path}: {exc}")
            sys.exit(2)
        except classifier.ModelUnavailable as exc:
            self.stderr.write(
                f"No usable model ({exc}); run manage.py train_classifier"
            )
            sys.exit(1)
        predictions = classifier.predict_many(model, [e for _, e, _ in rows])
        out = output.open("w", encoding="utf-8") if output else None
        for (ident, example, _), p in zip(rows, predictions, strict=True):
            text = f"{example.title}\n{example.description}"
            line = json.dumps(
                {
                    "id": ident,
                    "product_type": p.product_type,
                    "product_confidence": p.product_confidence,
                    "process_types": list(p.process_types),
                    "process_confidences": p.process_confidences,
                    "needs_review": p.needs_review,
                    "case_studies": [
                        s.slug for s in CaseStudy.objects.suggest_for(text)
                    ],
                }
            )
            if out:
                out.write(line + "\n")
            else:
                self.stdout.write(line)
        if out:
            out.close()
