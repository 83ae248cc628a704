from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casestudies import matching
from casestudies import services as case_services
from casestudies.models import CaseStudy, background_texts
from enquiries import taxonomy
from triage import classifier, evaluation, services


class Command(BaseCommand):
    help = (
        "Evaluate the active model on labelled JSONL (dev_enquiries format). "
        "Case studies "
        "are matched against --case-studies FILE, else a case_studies.jsonl beside the "
        "input, else the published library."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--case-studies", type=Path)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            rows = services.read_enquiry_lines(
                path.read_text(encoding="utf-8").splitlines()
            )
            model = services.active_model()
            rank = self._ranker(
                options["case_studies"] or path.with_name("case_studies.jsonl")
            )
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"Cannot read input: {exc}")
            sys.exit(2)
        except (services.BadLine, case_services.ImportError_) as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        except classifier.ModelUnavailable as exc:
            self.stderr.write(
                f"No usable model ({exc}); run manage.py train_classifier"
            )
            sys.exit(1)
        labelled = [(e, g) for _, e, g in rows if g.get("product_type")]
        if not labelled:
            self.stderr.write(f"{path}: no line has gold labels")
            sys.exit(2)
        report = self._report(model, labelled, rank)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print(report)

    def _ranker(self, case_file: Path) -> Any:
        if case_file.exists():
            lines = case_file.read_text(encoding="utf-8").splitlines()
            studies = [
                case_services.parse_case_study(line, number=n)
                for n, line in enumerate(lines, 1)
                if line.strip()
            ]
            index = matching.build(
                [
                    (s["slug"], f"{s['title']}\n{s['summary']}\n{s['body']}")
                    for s in studies
                ],
                background=background_texts(),
            )
            return lambda text: [m.key for m in matching.search(index, text)]
        return lambda text: [s.slug for s in CaseStudy.objects.suggest_for(text)]

    def _report(
        self, model: classifier.Model, labelled: list[Any], rank: Any
    ) -> dict[str, Any]:
        examples = [e for e, _ in labelled]
        predictions = classifier.predict_many(model, examples)
        gold_products = [g["product_type"] for _, g in labelled]
        gold_processes = [g.get("process_types", []) for _, g in labelled]
        accepted = [
            p
            for p, g in zip(predictions, gold_products, strict=True)
            if not p.needs_review
        ]
        accepted_right = sum(
            p.product_type == g
            for p, g in zip(predictions, gold_products, strict=True)
            if not p.needs_review
        )
        ranked = [rank(f"{e.title}\n{e.description}") for e in examples]
        grades = [g.get("relevant_case_studies", {}) for _, g in labelled]
        return {
            "model_version": model.version,
            "enquiries": len(labelled),
            "product": evaluation.product_report(
                gold_products,
                [p.product_type for p in predictions],
                taxonomy.PRODUCT_TYPES,
            ),
            "process": evaluation.process_report(
                gold_processes,
                [p.process_types for p in predictions],
                taxonomy.PROCESS_TYPES,
            ),
            "accepted_without_review": {
                "share": round(len(accepted) / len(labelled), 4),
                "accuracy": round(accepted_right / len(accepted), 4)
                if accepted
                else None,
            },
            "case_studies": evaluation.matching_report(ranked, grades),
        }

    def _print(self, r: dict[str, Any]) -> None:
        w = self.stdout.write
        p, q, a, c = (
            r["product"],
            r["process"],
            r["accepted_without_review"],
            r["case_studies"],
        )
        w(f"Model {r['model_version']} on {r['enquiries']} labelled enquiries")
        w(f"Product type: accuracy {p['accuracy']:.3f}, macro-F1 {p['macro_f1']:.3f}")
        w(f"  {'class':28} precision recall  f1    n")
        for cls, m in p["per_class"].items():
            w(
                f"  {cls:28} {m['precision']:.3f}     {m['recall']:.3f}  "
                f"{m['f1']:.3f} {m['support']:>4}"
            )
        w("Confusion (rows gold, columns predicted, in the class order above):")
        for cls, row in p["confusion"].items():
            w(f"  {cls:28} " + " ".join(f"{n:>3}" for n in row.values()))
        w(
            f"Process types: micro-F1 {q['micro_f1']:.3f}, "
            f"macro-F1 {q['macro_f1']:.3f}, "
            f"exact-set match {q['exact_set_match']:.3f}"
        )
        accuracy = "n/a" if a["accuracy"] is None else f"{a['accuracy']:.3f}"
        w(
            f"Accepted without review: {a['share']:.3f} of enquiries, "
            f"accuracy {accuracy}"
        )
        if c["ndcg_at_5"] is None:
            w("Case studies: no relevance judgements in the input")
        else:
            w(
                f"Case studies: nDCG@5 {c['ndcg_at_5']:.3f}, "
                f"hit@3 {c['hit_at_3']:.3f} over {c['judged']} enquiries"
            )
