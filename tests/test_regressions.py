"""Regressions for defects found in review."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from casestudies.models import CaseStudy
from enquiries import privacy
from enquiries.models import Enquiry
from tests.helpers import submit
from triage import services

pytestmark = pytest.mark.django_db


def test_the_admin_hides_other_teams_enquiries_from_specialists(
    specialist: User, routed: tuple[Enquiry, Enquiry]
) -> None:
    mine, _ = routed
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/enquiries/enquiry/")
    request.user = specialist
    shown = admin.site._registry[Enquiry].get_queryset(request)
    assert list(shown) == [mine]  # the admin applies the same object-level rule


def test_erasure_replaces_whole_words_only() -> None:
    enquiry, _ = submit(
        email="info@acme.example",
        contact_name="Jo Bloggs",
        description="Please send information to info@acme.example or call Jo Bloggs; Bloggs wrote the attached plan.",
    )
    privacy.anonymise_enquiry(enquiry=enquiry, reason="test")
    enquiry.refresh_from_db()
    assert "information" in enquiry.description
    assert (
        "info@acme.example" not in enquiry.description
        and "Bloggs" not in enquiry.description
    )


def test_bulk_accept_keeps_staff_corrections(officer: User, active_model: Any) -> None:
    enquiry, _ = submit()
    services.classify_enquiry(enquiry_id=enquiry.pk)
    services.confirm_labels(
        enquiry=enquiry,
        actor=officer,
        product_type="borderline-product",
        process_types=[],
    )
    client = Client()
    client.force_login(officer)
    client.post("/staff/bulk/", {"ids": [enquiry.pk], "action": "accept"})
    enquiry.refresh_from_db()
    assert enquiry.triage.final_product_type == "borderline-product"


def test_a_reply_resumes_the_paused_clock(officer: User) -> None:
    enquiry, _ = submit()
    services.change_status(
        enquiry=enquiry, actor=officer, to=Enquiry.Status.AWAITING_ENQUIRER
    )
    services.reply_to_enquiry(
        enquiry=enquiry, author=officer, body="Thanks", case_study_slugs=[]
    )
    enquiry.refresh_from_db()
    assert (
        enquiry.status == Enquiry.Status.RESPONDED and enquiry.clock_paused_at is None
    )


@pytest.mark.parametrize(
    "query", ["to=0001-01-01", "to=9999-12-31", "from=9999-12-31", "from=garbage"]
)
def test_insight_survives_extreme_dates(officer: User, query: str) -> None:
    client = Client()
    client.force_login(officer)
    assert client.get(f"/staff/insight/?{query}").status_code == 200


def test_case_study_api_pages_without_publication_dates() -> None:
    for i in range(55):
        CaseStudy.objects.create(
            slug=f"s{i}",
            title=f"S{i}",
            summary="s",
            body="b",
            product_type="medical-device",
            status="published",
            published=None,
        )
    first = Client().get("/api/v1/case-studies/").json()
    second = Client().get(first["next"].replace("http://testserver", "")).json()
    assert len(first["results"]) == 50 and len(second["results"]) == 5
