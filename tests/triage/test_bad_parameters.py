"""Odd ids and unknown filter values: a clear answer, never a server error."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from enquiries.models import Enquiry
from tests.helpers import submit
from triage import services
from triage.models import Team

pytestmark = pytest.mark.django_db

BIG = "9" * 30  # overflows SQLite's INTEGER and PostgreSQL's bigint
ODD_IDS = [BIG, "²", "0", "-1", "1.5", " 1", "\u0661", "2147483648", "9" * 5000]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {services.create_api_token(user=user)}")


@pytest.mark.parametrize("raw", ["1", "42", "007", "2147483647"])
def test_parse_id_accepts_ascii_digits_within_range(raw: str) -> None:
    assert services.parse_id(raw) == int(raw)


@pytest.mark.parametrize("raw", [*ODD_IDS, "", "abc"])
def test_parse_id_refuses_anything_else(raw: str) -> None:
    assert services.parse_id(raw) is None


@pytest.mark.parametrize("raw", ODD_IDS)
@pytest.mark.parametrize("name", ["team", "assignee"])
def test_the_staff_queue_ignores_an_unusable_id_filter(
    officer: User, name: str, raw: str
) -> None:
    submit(title="Still listed")
    response = signed_in(officer).get("/staff/", {name: raw})
    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_an_odd_cursor_id_is_ignored(officer: User) -> None:
    submit(title="Still listed")
    for raw in (BIG, "²"):
        response = signed_in(officer).get("/staff/", {"after": f"2026-01-01|{raw}"})
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"team": BIG}, "there is no team with the id"),
        ({"team": "²"}, "there is no team with the id"),
        ({"team": "2147483647"}, "there is no team with the id"),
        ({"from": "yesterday"}, "is not a date like 2026-03-31 (from)"),
        ({"to": "9999-99-99"}, "is not a date like 2026-03-31 (to)"),
    ],
)
def test_the_insight_page_says_which_filter_it_ignored(
    administrator: User, query: dict[str, str], said: str
) -> None:
    response = signed_in(administrator).get("/staff/insight/", query)
    assert response.status_code == 200
    assert "Filter ignored: " in response.content.decode()
    assert said in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "accept", "ids": "²"},
        {"action": "assign", "ids": BIG},
        {"action": "assign", "ids": "1", "assignee": BIG},
        {"action": "route", "ids": "1", "teams": ["²", BIG]},
    ],
)
def test_bulk_actions_ignore_odd_ids(officer: User, data: dict[str, object]) -> None:
    enquiry, _ = submit()
    data = {**data, "ids": [enquiry.pk if data["ids"] == "1" else data["ids"]]}
    response = signed_in(officer).post("/staff/bulk/", data)
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.assigned_to is None and not enquiry.routings.exists()


@pytest.mark.parametrize("raw", [BIG, "²"])
def test_single_enquiry_actions_ignore_odd_ids(officer: User, raw: str) -> None:
    enquiry, _ = submit()
    client = signed_in(officer)
    base = f"/staff/enquiries/{enquiry.reference}"
    assert client.post(f"{base}/assign/", {"assignee": raw}).status_code == 302
    assert client.post(f"{base}/route/", {"teams": [raw]}).status_code == 302
    reply = client.post(f"{base}/reply/", {"canned": raw, "body": "Thanks."})
    assert reply.status_code == 400  # said, not ignored; the text is kept
    assert "That standard response no longer exists" in reply.content.decode()
    enquiry.refresh_from_db()
    assert enquiry.assigned_to is None and not enquiry.routings.exists()
    assert not enquiry.replies.exists()


@pytest.mark.parametrize(
    ("query", "name", "hint"),
    [
        (f"team={BIG}", "team", "team id"),
        ("team=²", "team", "team id"),
        ("team=devices", "team", "team id"),
        ("assignee=²", "assignee", "staff member"),
        (f"assignee={BIG}", "assignee", "staff member"),
        ("team=2147483647", "team", "No team"),
        ("assignee=2147483647", "assignee", "No staff member"),
        ("status=bogus", "status", "in-triage"),
        ("product_type=bogus", "product_type", "medical-device"),
        ("process_type=bogus", "process_type", "use one of"),
        ("organisation_type=guild", "organisation_type", "sme"),
        ("needs_review=maybe", "needs_review", "yes"),
        ("overdue=1", "overdue", "yes"),
        ("ordering=bogus", "ordering", "-submitted"),
        ("ordering=-email", "ordering", "reference"),
    ],
)
def test_the_api_refuses_unusable_filters_naming_the_parameter(
    officer: User, query: str, name: str, hint: str
) -> None:
    submit()
    response = api(officer).get(f"/api/v1/enquiries/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [name]
    assert hint in body[name][0]


def test_the_api_still_filters_by_good_values(
    officer: User, routed: tuple[Enquiry, Enquiry]
) -> None:
    device, _ = routed
    services.assign_enquiry(enquiry=device, actor=None, assignee=officer)
    client = api(officer)
    devices = Team.objects.get(slug="devices")
    for query in (
        f"team={devices.pk}",
        f"assignee={officer.pk}",
        "status=routed&ordering=-due&needs_review=&overdue=",
    ):
        response = client.get(f"/api/v1/enquiries/?{query}")
        assert response.status_code == 200, response.json()
        refs = [r["reference"] for r in response.json()["results"]]
        assert device.reference in refs


def test_the_case_study_api_refuses_an_unknown_product_type() -> None:
    response = Client().get("/api/v1/case-studies/?product_type=bogus")
    assert response.status_code == 400
    assert "medical-device" in response.json()["product_type"][0]


def test_unknown_filter_messages_are_listed_for_the_queue() -> None:
    problems = services.queue_filter_problems({"status": "bogus", "tab": "all"})
    assert list(problems) == ["status"]
    assert "'bogus'" in problems["status"] and "awaiting-enquirer" in problems["status"]


@pytest.mark.parametrize("method", ["options", "head"])
def test_the_api_docs_answer_every_method_without_a_server_error(method: str) -> None:
    response = getattr(Client(), method)("/api/docs/")
    assert response.status_code == 200
    if method == "options":
        assert "GET" in response["Allow"]


def test_the_api_docs_refuse_a_post_cleanly() -> None:
    assert Client().post("/api/docs/").status_code == 405
    assert Client().options("/api/schema/").status_code == 200
