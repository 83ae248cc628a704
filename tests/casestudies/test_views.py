"""The public library: published only, filters, search, feed; matching on published only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casestudies.models import CaseStudy

pytestmark = pytest.mark.django_db


def make(slug: str, status: str = "published", **kw: Any) -> CaseStudy:
    fields: dict[str, Any] = {
        "title": f"Study {slug}",
        "summary": "Summary",
        "body": "Body text about devices.",
        "product_type": "medical-device",
        "status": status,
    }
    fields.update(kw)
    return CaseStudy.objects.create(slug=slug, **fields)


def test_drafts_and_withdrawn_studies_are_404_and_unlisted(client: Client) -> None:
    make("live")
    make("draft", status="draft")
    make("gone", status="withdrawn")
    listing = client.get("/case-studies/").content.decode()
    assert "Study live" in listing
    assert "Study draft" not in listing and "Study gone" not in listing
    assert client.get("/case-studies/live/").status_code == 200
    assert client.get("/case-studies/draft/").status_code == 404
    assert client.get("/case-studies/gone/").status_code == 404
    assert "Study draft" not in client.get("/case-studies/feed/").content.decode()


def test_filters_and_search(client: Client) -> None:
    make(
        "a",
        title="Printed implant",
        product_type="medical-device",
        process_types=["additive-manufacturing"],
    )
    make(
        "b",
        title="Flow chemistry API",
        product_type="chemical-medicine",
        process_types=["continuous-manufacturing"],
    )
    by_type = client.get(
        "/case-studies/?product_type=chemical-medicine"
    ).content.decode()
    assert "Flow chemistry API" in by_type and "Printed implant" not in by_type
    by_process = client.get(
        "/case-studies/?process_type=additive-manufacturing"
    ).content.decode()
    assert "Printed implant" in by_process and "Flow chemistry" not in by_process
    searched = client.get("/case-studies/?q=flow").content.decode()
    assert "Flow chemistry API" in searched and "Printed implant" not in searched
    ignored = client.get("/case-studies/?product_type=<script>").content.decode()
    assert "Printed implant" in ignored and "<script>" not in ignored


def test_matching_returns_only_published_studies() -> None:
    make("live", body="continuous flow chemistry reactor nitration")
    make("draft", status="draft", body="continuous flow chemistry reactor nitration")
    found = CaseStudy.objects.suggest_for(
        "a continuous flow reactor for a nitration step"
    )
    assert [s.slug for s in found] == ["live"]


def test_the_index_follows_publishing() -> None:
    study = make("later", status="draft", body="bioprinted cartilage scaffold")
    assert CaseStudy.objects.suggest_for("bioprinted cartilage") == []
    study.status = CaseStudy.Status.PUBLISHED
    study.save()
    assert [s.slug for s in CaseStudy.objects.suggest_for("bioprinted cartilage")] == [
        "later"
    ]


def test_the_check_answers_page_suggests_case_studies(
    client: Client, form_data: dict[str, Any]
) -> None:
    make(
        "lactate",
        title="Sweat lactate patch",
        body="A wearable sweat lactate patch for cardiac rehabilitation.",
    )
    client.post("/enquiry/", form_data)
    body = client.get("/enquiry/check/").content.decode()
    assert "Sweat lactate patch" in body
