"""Hypothesis fuzzing: the form, the API and the JSONL importers never crash."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestudies import services as case_services
from casestudies.models import CaseStudy
from tests.helpers import VALID
from triage import services as triage_services

FIELDS = [k for k in VALID if k != "consent"] + [
    "consent",
    "website",
    "product_type_guess",
]
text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "<script>", "'; DROP TABLE x;--", "é" * 60]),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.django_db
@FUZZ
@given(data=st.dictionaries(st.sampled_from(FIELDS), text, max_size=len(FIELDS)))
def test_the_form_never_answers_500(data: dict[str, str]) -> None:
    client = Client()
    response = client.post("/enquiry/", {**VALID, **data})
    assert response.status_code in (302, 400, 429)
    if response.status_code == 302:
        assert client.post("/enquiry/check/").status_code in (302, 429)


@pytest.mark.django_db
@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(FIELDS),
            st.one_of(text, st.booleans(), st.integers(), st.none()),
            max_size=8,
        ),
        st.lists(st.integers(), max_size=3),
        st.text(max_size=50),
    )
)
def test_the_api_never_answers_500(body: Any) -> None:
    payload = json.dumps(body) if not isinstance(body, str) else body
    response = Client().post(
        "/api/v1/enquiries/", payload, content_type="application/json"
    )
    assert response.status_code in (201, 400, 429)
    assert response["Content-Type"].startswith("application/json")


line = st.one_of(
    st.text(max_size=200),
    st.dictionaries(st.sampled_from(["slug", "title", "summary", "body", "product_type", "process_types", "published", "organisation_type", "id", "description", "gold"]),
                    st.one_of(st.text(max_size=40), st.integers(), st.lists(st.text(max_size=20), max_size=3), st.none()), max_size=8).map(json.dumps),
)  # fmt: skip


@FUZZ
@given(lines=st.lists(line, max_size=5))
def test_case_study_lines_parse_or_fail_cleanly(lines: list[str]) -> None:
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            case_services.parse_case_study(raw, number=n)
        except case_services.ImportError_ as exc:
            assert f"line {n}" in str(exc)


@FUZZ
@given(lines=st.lists(line, max_size=5))
def test_enquiry_lines_parse_or_fail_cleanly(lines: list[str]) -> None:
    try:
        triage_services.read_enquiry_lines(lines)
    except triage_services.BadLine as exc:
        assert str(exc).startswith("line ")


@pytest.mark.django_db
@FUZZ
@given(lines=st.lists(line, min_size=1, max_size=4))
def test_the_importer_is_all_or_nothing(
    lines: list[str], tmp_path_factory: Any
) -> None:
    path = Path(tmp_path_factory.mktemp("import")) / "cases.jsonl"
    path.write_text("\n".join(lines))
    before = CaseStudy.objects.count()
    try:
        call_command(
            "import_casestudies", str(path), stdout=io.StringIO(), stderr=io.StringIO()
        )
    except SystemExit as exc:
        assert exc.code == 2
        assert CaseStudy.objects.count() == before  # nothing half-imported
