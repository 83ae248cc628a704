"""import_casestudies: upsert by slug, all or nothing, errors naming line and field."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from casestudies.models import CaseStudy
from tests.conftest import shared_file
from tests.helpers import jsonl

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "slug": "printed-knee-guides",
    "title": "Printed knee guides",
    "summary": "A hospital printed surgical guides.",
    "body": "The office **advised** on the pathway.",
    "product_type": "medical-device",
    "process_types": ["additive-manufacturing"],
    "organisation_type": "nhs-public-sector",
    "published": "2024-03-01",
}


def run_import(tmp_path: Path, rows_text: str) -> tuple[int | None, str]:
    path = tmp_path / "cases.jsonl"
    path.write_text(rows_text)
    err = io.StringIO()
    try:
        call_command("import_casestudies", str(path), stdout=io.StringIO(), stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return None, err.getvalue()


def test_it_imports_as_published_and_upserts_by_slug(tmp_path: Path) -> None:
    assert run_import(tmp_path, jsonl([GOOD]))[0] is None
    assert (
        run_import(
            tmp_path, jsonl([{**GOOD, "title": "Printed knee guides, revised"}])
        )[0]
        is None
    )
    study = CaseStudy.objects.get()
    assert study.title == "Printed knee guides, revised"
    assert study.status == CaseStudy.Status.PUBLISHED


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"product_type": "potion"}, "product_type"),
        ({"process_types": ["teleportation"]}, "process_types"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"title": ""}, "title"),
        ({"published": "yesterday"}, "published"),
        ({"organisation_type": "guild"}, "organisation_type"),
    ],
)
def test_a_bad_line_stops_everything_with_exit_2(
    tmp_path: Path, bad: dict[str, Any], field: str
) -> None:
    rows = [GOOD, {**GOOD, "slug": "second", **bad}]
    code, err = run_import(tmp_path, jsonl(rows))
    assert code == 2
    assert "line 2" in err and f"'{field}'" in err
    assert CaseStudy.objects.count() == 0  # all or nothing


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    code, err = run_import(tmp_path, jsonl([GOOD]) + "{oops\n")
    assert code == 2 and "line 2" in err


def test_the_shared_case_studies_import_and_export_round_trip(tmp_path: Path) -> None:
    source = shared_file("data", "case_studies.jsonl")
    code, _ = run_import(tmp_path, source.read_text())
    assert code is None
    assert CaseStudy.objects.published().count() == 48
    out = io.StringIO()
    call_command("export_casestudies", stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 48


def test_importing_real_studies_retires_the_demo_ones(tmp_path: Path) -> None:
    from casestudies import services

    services.import_case_studies(
        lines=[jsonl([{**GOOD, "slug": "demo-one"}])], demo=True
    )
    assert CaseStudy.objects.get(slug="demo-one").status == CaseStudy.Status.PUBLISHED
    assert run_import(tmp_path, jsonl([GOOD]))[0] is None
    assert CaseStudy.objects.get(slug="demo-one").status == CaseStudy.Status.WITHDRAWN
    assert list(CaseStudy.objects.published().values_list("slug", flat=True)) == [
        GOOD["slug"]
    ]
