"""Commands with a fixed contract: classify_enquiries and evaluate_triage."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from enquiries.models import Enquiry
from tests.conftest import shared_file
from tests.helpers import jsonl
from triage.models import ClassifierVersion

pytestmark = pytest.mark.django_db

ROWS: list[dict[str, Any]] = [
    {
        "id": "a",
        "title": "Printed tablets",
        "description": "We 3D print personalised tablets of levetiracetam in the hospital pharmacy for children.",
    },
    {
        "id": "b",
        "title": "AI reader",
        "description": "Software that reads retinal photographs and grades diabetic retinopathy.",
        "gold": {"x": 1},
    },
]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_classify_enquiries_prints_one_json_object_per_line(
    active_model: ClassifierVersion, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(ROWS))
    lines = run("classify_enquiries", str(source)).strip().splitlines()
    results = [json.loads(line) for line in lines]
    assert [r["id"] for r in results] == ["a", "b"]
    for r in results:
        assert set(r) == {
            "id",
            "product_type",
            "product_confidence",
            "process_types",
            "process_confidences",
            "needs_review",
            "case_studies",
        }
        assert isinstance(r["needs_review"], bool)
        assert len(r["case_studies"]) <= 5
    assert Enquiry.objects.count() == 0


def test_classify_enquiries_writes_to_an_output_file(
    active_model: ClassifierVersion, tmp_path: Path
) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(jsonl(ROWS))
    run("classify_enquiries", str(source), "--output", str(target))
    assert len(target.read_text().splitlines()) == 2


def test_a_malformed_line_stops_with_exit_code_2_naming_it(
    active_model: ClassifierVersion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(ROWS[:1]) + "{not json\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("classify_enquiries", str(source))
    assert exit_info.value.code == 2
    assert "line 2" in capsys.readouterr().err


def test_evaluate_triage_reports_every_metric(
    active_model: ClassifierVersion, tmp_path: Path
) -> None:
    labelled = [
        {
            **ROWS[0],
            "gold": {
                "product_type": "chemical-medicine",
                "process_types": [
                    "additive-manufacturing",
                    "point-of-care-manufacturing",
                ],
                "relevant_case_studies": {"x": 2},
            },
        },
        {
            **ROWS[1],
            "gold": {
                "product_type": "software-ai-device",
                "process_types": [],
                "relevant_case_studies": {},
            },
        },
    ]
    source = tmp_path / "labelled.jsonl"
    source.write_text(jsonl(labelled))
    report = json.loads(run("evaluate_triage", str(source), "--json"))
    assert report["enquiries"] == 2
    assert set(report["product"]) == {"accuracy", "macro_f1", "per_class", "confusion"}
    assert {"micro_f1", "macro_f1", "exact_set_match"} <= set(report["process"])
    assert set(report["accepted_without_review"]) == {"share", "accuracy"}
    assert {"ndcg_at_5", "hit_at_3"} <= set(report["case_studies"])
    text = run("evaluate_triage", str(source))
    assert "Product type: accuracy" in text and "nDCG@5" in text


def test_evaluate_triage_on_the_dev_set_prints_numbers(
    active_model: ClassifierVersion,
) -> None:
    dev = shared_file("data", "dev_enquiries.jsonl")
    report = json.loads(run("evaluate_triage", str(dev), "--json"))
    assert report["enquiries"] == 180
    assert report["case_studies"]["judged"] > 100
