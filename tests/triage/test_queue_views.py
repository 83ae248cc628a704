"""The staff queue and enquiry page: permission matrix, filters, sort allowlist, XSS."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client

from enquiries.models import Enquiry
from tests.helpers import submit
from triage import services
from triage.models import Team

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


PAGES = ["/staff/enquiries/{ref}/", "/staff/"]
ACTIONS = ["accept", "correct", "route", "assign", "move", "note", "reply"]


@pytest.mark.parametrize(
    "persona",
    ["anonymous", "outsider", "editor", "specialist", "officer", "administrator"],
)
def test_permission_matrix(
    persona: str, routed: tuple[Enquiry, Enquiry], request: Any
) -> None:
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = client_for(user)
    device, medicine = routed
    sees_all = persona in ("officer", "administrator")
    sees_own_team = persona == "specialist"
    for enquiry, own_team in ((device, True), (medicine, False)):
        page = client.get(f"/staff/enquiries/{enquiry.reference}/")
        allowed = sees_all or (sees_own_team and own_team)
        assert (page.status_code == 200) == allowed, (
            persona,
            enquiry.title,
            page.status_code,
        )
        if not allowed:
            assert page.status_code in (302, 403, 404)
        for action in ACTIONS:
            response = client.post(
                f"/staff/enquiries/{enquiry.reference}/{action}/",
                {"note": "x", "body": "x", "to": "in-triage"},
            )
            if not allowed:
                assert response.status_code in (302, 403, 404)
                if response.status_code == 302:
                    assert "/staff/login/" in response["Location"]
    queue = client.get("/staff/")
    if persona in ("anonymous",):
        assert queue.status_code == 302
    elif persona in ("outsider",) or persona == "editor":
        assert queue.status_code == 403
    else:
        body = queue.content.decode()
        assert ("Knee brace" in body) is True
        assert ("Flow synthesis" in body) == sees_all
    # events only from the allowed actions
    if not (sees_all or sees_own_team):
        assert not device.events.filter(actor=user).exists() if user else True


def test_a_specialist_cannot_reach_other_teams_by_any_parameter(
    specialist: User, routed: tuple[Enquiry, Enquiry]
) -> None:
    _, medicine = routed
    client = client_for(specialist)
    medicines = Team.objects.get(slug="medicines")
    for query in (
        f"?team={medicines.pk}",
        "?tab=all",
        f"?q={medicine.title}",
        "?status=routed",
        "?tab=closed",
    ):
        assert medicine.reference not in client.get(f"/staff/{query}").content.decode()
    client.post(
        "/staff/bulk/",
        {"ids": [medicine.pk], "action": "assign", "assignee": specialist.pk},
    )
    medicine.refresh_from_db()
    assert medicine.assigned_to is None


def test_sort_and_filter_parameters_outside_the_allowlist_are_ignored(
    officer: User,
) -> None:
    for i in range(3):
        submit(title=f"Enquiry number {i}")
    client = client_for(officer)
    for query in (
        "?sort=email",
        "?sort=-contact_name",
        "?sort=title;DROP",
        "?status=bogus",
        "?product_type=x'--",
        "?team=abc",
        "?after=garbage|x",
        "?tab=../../etc",
    ):
        response = client.get(f"/staff/{query}")
        assert response.status_code == 200, query
        assert response.content.decode().count("Enquiry number") == 3


def test_keyset_pages_cover_every_row_once(
    officer: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    refs = {submit(title=f"Row {i}")[0].reference for i in range(10)}
    client = client_for(officer)
    seen: list[str] = []
    url = "/staff/?sort=-submitted"
    for _ in range(5):
        response = client.get(url)
        seen += [row["reference"] for row in response.context["rows"]]
        cursor = response.context["cursor"]
        if not cursor:
            break
        url = f"/staff/?sort=-submitted&after={quote(cursor)}"
    assert sorted(seen) == sorted(refs)


def test_filters_narrow_the_queue(
    officer: User, routed: tuple[Enquiry, Enquiry]
) -> None:
    device, _ = routed
    client = client_for(officer)
    devices = Team.objects.get(slug="devices")
    body = client.get(f"/staff/?team={devices.pk}").content.decode()
    assert "Knee brace" in body and "Flow synthesis" not in body
    body = client.get("/staff/?q=brace").content.decode()
    assert "Knee brace" in body and "Flow synthesis" not in body
    services.assign_enquiry(enquiry=device, actor=officer, assignee=officer)
    body = client.get("/staff/?tab=mine").content.decode()
    assert "Knee brace" in body and "Flow synthesis" not in body


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    "field", ["organisation_name", "contact_name", "title", "description", "phone"]
)
def test_enquirer_text_is_inert_on_staff_pages(officer: User, field: str) -> None:
    payload = XSS[:40] if field == "phone" else XSS  # phone is 40 characters at most
    enquiry, _ = submit(**{field: payload})
    client = client_for(officer)
    for url in (f"/staff/enquiries/{enquiry.reference}/", "/staff/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x o" not in body


def test_bulk_accept_assign_and_route(officer: User, active_model: Any) -> None:
    enquiries = [submit(title=f"Bulk {i}")[0] for i in range(3)]
    for e in enquiries:
        services.classify_enquiry(enquiry_id=e.pk)
    client = client_for(officer)
    ids = [e.pk for e in enquiries]
    client.post(
        "/staff/bulk/", {"ids": ids, "action": "assign", "assignee": officer.pk}
    )
    assert Enquiry.objects.filter(pk__in=ids, assigned_to=officer).count() == 3
    team = Team.objects.get(slug="diagnostics")
    client.post("/staff/bulk/", {"ids": ids, "action": "route", "teams": [team.pk]})
    assert Enquiry.objects.filter(pk__in=ids, routings__team=team).count() == 3
    client.post("/staff/bulk/", {"ids": ids, "action": "accept"})
    assert (
        Enquiry.objects.filter(pk__in=ids, triage__labels_confirmed_by=officer).count()
        == 3
    )


def test_attachments_download_only_for_permitted_staff(
    officer: User, specialist: User, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enquiries import services as enquiry_services
    from tests.helpers import pdf_bytes

    staged = enquiry_services.stage_upload(
        upload=SimpleUploadedFile("plan.pdf", pdf_bytes()),
        content_type="application/pdf",
    )
    enquiry, _ = submit(staged=[staged])
    services.route_enquiry(
        enquiry=enquiry, actor=None, teams=[Team.objects.get(slug="medicines")]
    )
    item = enquiry.attachments.get()
    url = f"/staff/enquiries/{enquiry.reference}/attachments/{item.pk}/"
    response = client_for(officer).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert enquiry.events.filter(action="attachment-downloaded", actor=officer).exists()
    assert client_for(specialist).get(url).status_code == 404  # not their team
    assert Client().get(url).status_code == 302


def test_similar_answered_enquiries_are_shown(officer: User, active_model: Any) -> None:
    earlier, _ = submit(
        title="Sweat lactate patch for athletes",
        description="An adhesive sweat lactate patch that measures lactate during exercise and sends it to a phone.",
    )
    Enquiry.objects.filter(pk=earlier.pk).update(status=Enquiry.Status.CLOSED)
    now, _ = submit()
    body = (
        client_for(officer).get(f"/staff/enquiries/{now.reference}/").content.decode()
    )
    assert earlier.reference in body


def test_search_finds_an_enquiry_by_reference_organisation_or_email(
    officer: User,
) -> None:
    wanted, _ = submit(
        title="Knee brace with a sensor",
        organisation_name="Quillfeather Orthotics",
        email="Ada.Lovelace@Quill.example",
    )
    other, _ = submit(title="Flow synthesis of an API", email="bo@example.org")
    number = wanted.reference.rsplit("-", 1)[1]
    client = client_for(officer)
    for query in (
        wanted.reference,
        wanted.reference.lower(),
        number,
        "quillfeather",
        "Quillfeather orth",  # the start of the organisation's name
        "ada.lovelace@quill.example",
        "brace",
    ):
        body = client.get("/staff/", {"q": query}).content.decode()
        assert wanted.reference in body, query
        assert other.reference not in body, query


def test_search_by_email_is_exact_not_partial(officer: User) -> None:
    submit(title="Knee brace with a sensor", email="ada@quill.example")
    body = client_for(officer).get("/staff/", {"q": "da@quill.example"}).content
    assert b"Knee brace" not in body


def test_the_api_search_finds_by_reference_organisation_and_email(
    officer: User,
) -> None:
    wanted, _ = submit(organisation_name="Quillfeather Orthotics", email="a@q.example")
    submit(title="Flow synthesis of an API", email="bo@example.org")
    client = Client(
        HTTP_AUTHORIZATION=f"Token {services.create_api_token(user=officer)}"
    )
    number = wanted.reference.rsplit("-", 1)[1]
    for query in (wanted.reference, number, "quillfeather", "A@Q.example"):
        response = client.get("/api/v1/enquiries/", {"q": query})
        assert response.status_code == 200
        refs = [r["reference"] for r in response.json()["results"]]
        assert refs == [wanted.reference], query


def test_a_filter_the_queue_cannot_use_is_ignored_out_loud(officer: User) -> None:
    submit(title="Knee brace with a sensor")
    page = client_for(officer).get("/staff/", {"status": "bogus", "team": "²"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Filter ignored: Unknown status &#x27;bogus&#x27;" in body
    assert "Filter ignored: team must be a team id" in body
    assert "Knee brace with a sensor" in body  # the rest of the queue still shows
