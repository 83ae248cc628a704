"""REST API v1: public submission and status, staff queue with tokens, case studies."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from casestudies.models import CaseStudy
from enquiries.models import Enquiry, Event
from tests.helpers import VALID, submit
from triage import services
from triage.models import ApiToken, Triage

pytestmark = pytest.mark.django_db

PAYLOAD = {k: v for k, v in VALID.items() if k != "consent"} | {"consent": True}


def api(token: str | None = None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}") if token else Client()


def token_for(user: User) -> str:
    return services.create_api_token(user=user)


def test_submitting_through_the_api_stores_and_returns_the_reference() -> None:
    response = api().post(
        "/api/v1/enquiries/", PAYLOAD, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    enquiry = Enquiry.objects.get()
    assert body["reference"] == enquiry.reference
    token = body["status_url"].rstrip("/").rsplit("/", 1)[-1]
    status = api().get(f"/api/v1/status/{token}/")
    assert status.status_code == 200 and status.json()["reference"] == enquiry.reference


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "nope", "Enter an email address in the correct format"),
        ("description", "short", "Description must be at least 50 characters"),
        ("organisation_type", "guild", "Select a valid choice"),
        ("consent", False, "Confirm that you have read the privacy notice"),
    ],
)
def test_invalid_fields_get_json_errors_per_field(
    field: str, value: Any, message: str
) -> None:
    response = api().post(
        "/api/v1/enquiries/", {**PAYLOAD, field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert any(message in m for m in response.json()[field])
    assert Enquiry.objects.count() == 0


def test_malformed_json_is_a_json_400() -> None:
    response = api().post(
        "/api/v1/enquiries/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_api_submissions_are_rate_limited(settings: Any) -> None:
    settings.SUBMIT_RATE_LIMIT_PER_HOUR = 1
    assert (
        api()
        .post("/api/v1/enquiries/", PAYLOAD, content_type="application/json")
        .status_code
        == 201
    )
    again = api().post("/api/v1/enquiries/", PAYLOAD, content_type="application/json")
    assert again.status_code == 429 and "detail" in again.json()


def test_a_wrong_status_token_is_a_json_404() -> None:
    response = api().get("/api/v1/status/not-a-token/")
    assert response.status_code == 404 and response.json()["detail"]


def test_staff_endpoints_need_a_valid_token(officer: User) -> None:
    enquiry, _ = submit()
    assert api().get("/api/v1/enquiries/").status_code in (401, 403)
    assert api("bogus").get("/api/v1/enquiries/").status_code == 401
    key = token_for(officer)
    assert api(key).get("/api/v1/enquiries/").status_code == 200
    ApiToken.objects.update(revoked=True)
    assert api(key).get(f"/api/v1/enquiries/{enquiry.reference}/").status_code == 401


def test_tokens_are_stored_hashed_and_printed_once(officer: User) -> None:
    out = io.StringIO()
    call_command("create_api_token", "officer", stdout=out)
    key = out.getvalue().strip()
    stored = ApiToken.objects.get()
    assert key not in (stored.key_hash, stored.prefix) and stored.prefix == key[:8]
    assert api(key).get("/api/v1/enquiries/").status_code == 200


@pytest.mark.parametrize(
    "persona", ["outsider", "editor", "specialist", "officer", "administrator"]
)
def test_api_permission_matrix(
    persona: str, request: Any, routed: tuple[Enquiry, Enquiry]
) -> None:
    user = request.getfixturevalue(persona)
    user.is_staff = (
        user.is_staff or persona == "outsider"
    )  # a staff flag alone is not enough
    user.save()
    device, medicine = routed
    client = api(token_for(user))
    listing = client.get("/api/v1/enquiries/")
    sees_all = persona in ("officer", "administrator")
    if persona in ("outsider", "editor"):
        assert listing.status_code == 403
        return
    refs = {row["reference"] for row in listing.json()["results"]}
    assert device.reference in refs
    assert (medicine.reference in refs) == sees_all
    other = client.get(f"/api/v1/enquiries/{medicine.reference}/")
    assert other.status_code == (200 if sees_all else 404)
    patch = client.patch(
        f"/api/v1/enquiries/{medicine.reference}/",
        {"status": "in-triage"},
        content_type="application/json",
    )
    assert patch.status_code == (200 if sees_all else 404)


def test_patch_uses_the_same_services_and_audit_trail(
    officer: User, active_model: Any
) -> None:
    enquiry, _ = submit()
    services.classify_enquiry(enquiry_id=enquiry.pk)
    client = api(token_for(officer))
    response = client.patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        {
            "product_type": "in-vitro-diagnostic",
            "process_types": ["process-analytics"],
            "teams": ["diagnostics"],
            "assignee": "officer",
            "status": "awaiting-enquirer",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["classification"]["product_type"] == "in-vitro-diagnostic"
    assert body["classification"]["confirmed_by_staff"] is True
    assert body["teams"] == ["diagnostics"] and body["assignee"] == "officer"
    assert body["status"] == "awaiting-enquirer"
    actions = set(
        Event.objects.filter(enquiry=enquiry, actor=officer).values_list(
            "action", flat=True
        )
    )
    assert {"corrected", "routed", "assigned", "status"} <= actions
    refused = client.patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        {"status": "new"},
        content_type="application/json",
    )
    assert (
        refused.status_code == 400
        and "cannot move" in refused.json()["non_field_errors"][0]
    )
    bad = client.patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        {"teams": ["nowhere"], "product_type": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"teams", "product_type"}


def test_classification_is_null_until_classified(officer: User) -> None:
    enquiry, _ = submit()
    body = api(token_for(officer)).get(f"/api/v1/enquiries/{enquiry.reference}/").json()
    assert body["classification"] is None


def test_case_studies_are_public_and_published_only() -> None:
    CaseStudy.objects.create(
        slug="live",
        title="Live",
        summary="s",
        body="b",
        product_type="medical-device",
        status="published",
    )
    CaseStudy.objects.create(
        slug="draft",
        title="Draft",
        summary="s",
        body="b",
        product_type="medical-device",
        status="draft",
    )
    listing = api().get("/api/v1/case-studies/").json()
    assert [s["slug"] for s in listing["results"]] == ["live"]
    assert api().get("/api/v1/case-studies/live/").json()["body"] == "b"
    assert api().get("/api/v1/case-studies/draft/").status_code == 404


def test_schema_and_docs_are_served() -> None:
    schema = api().get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/enquiries/" in schema.content
    docs = api().get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    # the initialiser is a separate script, so the page works under the CSP
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", docs.content)
    assert api().get("/api/docs/?script").status_code == 200


def test_unknown_api_paths_answer_json() -> None:
    response = api().get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["detail"] == "Not found"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisation_name", ["x", "y"], "Must be a string, not a list"),
        ("organisation_name", {"a": 1}, "Must be a string, not an object"),
        ("title", 12345, "Must be a string, not a number"),
        ("description", True, "Must be a string, not true or false"),
        ("organisation_type", ["sme"], "Must be a string, not a list"),
        ("phone", None, "Must be a string, not null"),
        ("consent", "yes", "Must be true or false"),
        ("confidential", 1, "Must be true or false"),
        ("descripton", "A typo", "Unknown field; did you mean 'description'?"),
        ("website", "", "Unknown field"),
        ("attachments", [], "only through the web form"),
    ],
)
def test_wrong_types_and_unknown_fields_are_refused_per_field(
    field: str, value: Any, message: str
) -> None:
    response = api().post(
        "/api/v1/enquiries/", {**PAYLOAD, field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert message in body[field][0]
    assert Enquiry.objects.count() == 0


def test_type_errors_come_with_the_form_errors_of_other_fields() -> None:
    response = api().post(
        "/api/v1/enquiries/",
        {**PAYLOAD, "title": 12345, "email": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"title", "email"}


def test_the_attachments_message_points_to_the_web_form() -> None:
    response = api().post(
        "/api/v1/enquiries/",
        {**PAYLOAD, "attachments": ["a.pdf"]},
        content_type="application/json",
    )
    assert "http://testserver/enquiry/" in response.json()["attachments"][0]


def test_confidential_may_be_false_or_true(officer: User) -> None:
    for flag in (False, True):
        response = api().post(
            "/api/v1/enquiries/",
            {**PAYLOAD, "email": f"{flag}@example.com", "confidential": flag},
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
    assert sorted(Enquiry.objects.values_list("confidential", flat=True)) == [
        False,
        True,
    ]


def test_patch_refuses_unknown_fields_and_changes_nothing(officer: User) -> None:
    enquiry, _ = submit()
    response = api(token_for(officer)).patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        {"statuss": "closed", "status": "in-triage"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"statuss": ["Unknown field; did you mean 'status'?"]}
    enquiry.refresh_from_db()
    assert enquiry.status == Enquiry.Status.NEW


def test_patch_of_a_non_object_is_a_400(officer: User) -> None:
    enquiry, _ = submit()
    response = api(token_for(officer)).patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        ["status"],
        content_type="application/json",
    )
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_staff_removing_every_process_type_is_what_the_api_shows(
    officer: User, active_model: Any
) -> None:
    enquiry, _ = submit()
    services.classify_enquiry(enquiry_id=enquiry.pk)
    Triage.objects.filter(enquiry=enquiry).update(process_types=["digital-design"])
    client = api(token_for(officer))
    response = client.patch(
        f"/api/v1/enquiries/{enquiry.reference}/",
        {"process_types": []},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    classification = response.json()["classification"]
    assert classification["process_types"] == []
    assert classification["confirmed_by_staff"] is True
    again = client.get(f"/api/v1/enquiries/{enquiry.reference}/").json()
    assert again["classification"]["process_types"] == []


def test_the_audit_trail_records_an_empty_staff_list_as_the_old_value(
    officer: User, active_model: Any
) -> None:
    enquiry, _ = submit()
    services.classify_enquiry(enquiry_id=enquiry.pk)
    Triage.objects.filter(enquiry=enquiry).update(process_types=["digital-design"])
    services.confirm_labels(enquiry=enquiry, actor=officer, process_types=[])
    services.confirm_labels(
        enquiry=enquiry, actor=officer, process_types=["process-analytics"]
    )
    last = Event.objects.filter(enquiry=enquiry, action="corrected").last()
    assert last is not None and last.old is not None
    assert last.old["process_types"] == []
