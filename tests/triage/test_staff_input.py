"""Staff input the back office must refuse clearly, or keep, instead of losing it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from enquiries.models import Enquiry, Event
from tests.helpers import submit
from triage import services
from triage.models import ClassifierVersion, Team, Triage

pytestmark = pytest.mark.django_db
S = Enquiry.Status


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response: Any) -> list[str]:
    """The flash messages a redirect left for the next page."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def predicted(enquiry: Enquiry, *processes: str) -> Triage:
    """A model prediction with the given process types, confident enough to show."""
    return Triage.objects.create(
        enquiry=enquiry, product_type="medical-device", product_confidence=0.9,
        process_types=list(processes),
        process_confidences=dict.fromkeys(processes, 0.8) | {"digital-design": 0.1},
        needs_review=True, model_version="vtest", classified_at=timezone.now(),
    )  # fmt: skip


def ticked(body: str, code: str) -> bool:
    match = re.search(
        rf'<input[^>]*name="process_types"[^>]*value="{code}"[^>]*>', body
    )
    assert match is not None, code
    return " checked" in match.group(0)


# 1. Labels: an empty list of process types is a staff decision, and it is shown


def test_removing_every_process_type_shows_none_ticked(officer: User) -> None:
    enquiry, _ = submit()
    predicted(enquiry, "additive-manufacturing", "process-analytics")
    client = client_for(officer)
    response = client.post(
        f"/staff/enquiries/{enquiry.reference}/correct/",
        {"product_type": "medical-device"},
    )
    assert response.status_code == 302
    triage = Triage.objects.get(enquiry=enquiry)
    assert triage.final_process_types == [] and triage.labels_confirmed_at
    page = client.get(f"/staff/enquiries/{enquiry.reference}/")
    body = page.content.decode()
    assert not ticked(body, "additive-manufacturing")
    assert not ticked(body, "process-analytics")
    assert not any(row["chosen"] for row in page.context["process_rows"])
    assert "no process types" in body


def test_before_confirmation_the_model_process_types_are_ticked(
    officer: User,
) -> None:
    enquiry, _ = submit()
    predicted(enquiry, "additive-manufacturing")
    body = client_for(officer).get(f"/staff/enquiries/{enquiry.reference}/")
    assert ticked(body.content.decode(), "additive-manufacturing")


# 2. Assign: only an explicit empty value unassigns


@pytest.mark.parametrize("raw", ["99999", "abc", "-1", " 1"])
def test_assigning_to_someone_who_does_not_exist_changes_nothing(
    officer: User, raw: str
) -> None:
    enquiry, _ = submit()
    services.assign_enquiry(enquiry=enquiry, actor=None, assignee=officer)
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/assign/", {"assignee": raw}
    )
    assert response.status_code == 302
    messages = said(response)
    assert "Assigned." not in messages
    assert any("no staff member" in m for m in messages), messages
    enquiry.refresh_from_db()
    assert enquiry.assigned_to == officer
    assert not Event.objects.filter(enquiry=enquiry, actor=officer).exists()


def test_an_empty_assignee_unassigns(officer: User) -> None:
    enquiry, _ = submit()
    services.assign_enquiry(enquiry=enquiry, actor=None, assignee=officer)
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/assign/", {"assignee": ""}
    )
    assert said(response) == ["Unassigned."]
    enquiry.refresh_from_db()
    assert enquiry.assigned_to is None


def test_assigning_to_a_staff_member_says_who(officer: User) -> None:
    enquiry, _ = submit()
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/assign/", {"assignee": officer.pk}
    )
    assert said(response) == ["Assigned to officer."]
    enquiry.refresh_from_db()
    assert enquiry.assigned_to == officer


@pytest.mark.parametrize("raw", ["99999", "abc"])
def test_bulk_assign_to_someone_who_does_not_exist_changes_nothing(
    officer: User, raw: str
) -> None:
    enquiries = [submit(title=f"Bulk {i}")[0] for i in range(2)]
    for e in enquiries:
        services.assign_enquiry(enquiry=e, actor=None, assignee=officer)
    response = client_for(officer).post(
        "/staff/bulk/",
        {"ids": [e.pk for e in enquiries], "action": "assign", "assignee": raw},
    )
    messages = said(response)
    assert any("no staff member" in m for m in messages), messages
    assert not any("updated" in m for m in messages)
    assert Enquiry.objects.filter(assigned_to=officer).count() == 2


# 3. Refused replies and corrections keep what was typed


def test_a_refused_reply_on_a_closed_enquiry_keeps_the_text(officer: User) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=S.CLOSED)
    text = "A long and careful answer about device classification. " * 40
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/reply/", {"body": text}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This enquiry is closed; reopen it before replying" in body
    assert "govuk-error-summary" in body
    assert text.strip() in response.content.decode().replace("&#x27;", "'")
    assert enquiry.replies.count() == 0


def test_a_closed_enquiry_offers_no_reply_form(officer: User) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=S.CLOSED)
    body = client_for(officer).get(f"/staff/enquiries/{enquiry.reference}/")
    html = body.content.decode()
    assert f"/staff/enquiries/{enquiry.reference}/reply/" not in html
    assert "Reopen this enquiry before replying" in html


def test_an_open_enquiry_offers_the_reply_form(officer: User) -> None:
    enquiry, _ = submit()
    body = client_for(officer).get(f"/staff/enquiries/{enquiry.reference}/")
    assert f"/staff/enquiries/{enquiry.reference}/reply/" in body.content.decode()


def test_an_empty_reply_is_refused_and_keeps_the_chosen_case_studies(
    officer: User,
) -> None:
    enquiry, _ = submit()
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/reply/",
        {"body": "   ", "case_studies": ["no-such-study"]},
    )
    assert response.status_code == 400
    assert "Write a reply before sending it" in response.content.decode()
    assert enquiry.replies.count() == 0


def test_an_invalid_correction_keeps_the_ticked_boxes(officer: User) -> None:
    enquiry, _ = submit()
    predicted(enquiry, "additive-manufacturing")
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/correct/",
        {"product_type": "not-a-product", "process_types": ["process-analytics"]},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a product type" in body and "govuk-error-summary" in body
    assert ticked(body, "process-analytics")
    assert not ticked(body, "additive-manufacturing")
    assert Triage.objects.get(enquiry=enquiry).labels_confirmed_at is None


# 4. Bulk messages


def test_bulk_without_an_action_says_choose_one(officer: User) -> None:
    enquiry, _ = submit()
    for ids in ([enquiry.pk], []):
        response = client_for(officer).post(
            "/staff/bulk/", {"ids": ids, "action": "bogus"}
        )
        assert said(response) == ["Choose an action"]


def test_bulk_route_without_teams_says_why(officer: User) -> None:
    enquiries = [submit(title=f"Bulk {i}")[0] for i in range(2)]
    response = client_for(officer).post(
        "/staff/bulk/", {"ids": [e.pk for e in enquiries], "action": "route"}
    )
    assert said(response) == ["Choose at least one team"]
    assert not Enquiry.objects.filter(routings__isnull=False).exists()


def test_bulk_without_enquiries_says_choose_some(officer: User) -> None:
    response = client_for(officer).post(
        "/staff/bulk/", {"action": "assign", "assignee": officer.pk}
    )
    assert said(response) == ["Select at least one enquiry"]


def test_bulk_counts_are_pluralised(officer: User) -> None:
    enquiries = [submit(title=f"Bulk {i}")[0] for i in range(2)]
    client = client_for(officer)
    team = Team.objects.get(slug="devices")
    one = client.post(
        "/staff/bulk/", {"ids": [enquiries[0].pk], "action": "route", "teams": team.pk}
    )
    assert said(one) == ["1 enquiry updated."]
    client.get("/staff/")  # shows, and so clears, the first message
    two = client.post(
        "/staff/bulk/",
        {"ids": [e.pk for e in enquiries], "action": "assign", "assignee": officer.pk},
    )
    assert said(two) == ["2 enquiries updated."]


def test_bulk_failures_say_why(officer: User) -> None:
    enquiries = [submit(title=f"Bulk {i}")[0] for i in range(2)]
    response = client_for(officer).post(
        "/staff/bulk/", {"ids": [e.pk for e in enquiries], "action": "accept"}
    )
    assert said(response) == [
        "No enquiries updated. 2 could not be updated: There is no model "
        "prediction to accept; correct the labels."
    ]


# 5. Status changes speak the staff's language


def test_moving_to_nothing_asks_for_a_status(officer: User) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=S.RESPONDED)
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/move/", {"to": ""}
    )
    assert said(response) == ["Choose a status to move to"]
    enquiry.refresh_from_db()
    assert enquiry.status == S.RESPONDED


def test_moving_to_an_unknown_status_is_refused(officer: User) -> None:
    enquiry, _ = submit()
    response = client_for(officer).post(
        f"/staff/enquiries/{enquiry.reference}/move/", {"to": "bogus"}
    )
    assert said(response) == ["Choose a status to move to"]


def test_staff_messages_use_staff_status_labels(officer: User) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=S.AWAITING_ENQUIRER)
    client = client_for(officer)
    response = client.post(
        f"/staff/enquiries/{enquiry.reference}/move/", {"to": S.OUT_OF_SCOPE}
    )
    assert said(response) == [
        "An enquiry that is awaiting enquirer cannot move to out of scope"
    ]
    page = client.get(f"/staff/enquiries/{enquiry.reference}/").content.decode()
    queue = client.get("/staff/").content.decode()
    for html in (page, queue):
        assert "Waiting for your reply" not in html
        assert "Awaiting enquirer" in html


# 6. Model thresholds


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("1.5", "must be between 0 and 1.01"),
        ("-0.1", "must be between 0 and 1.01"),
        ("nan", "must be a number, like 0.75"),
        ("inf", "must be a number"),
        ("1e400", "must be a number"),
        ("abc", "must be a number"),
    ],
)
def test_an_invalid_threshold_saves_nothing_and_keeps_what_was_typed(
    administrator: User, active_model: ClassifierVersion, value: str, error: str
) -> None:
    ClassifierVersion.objects.filter(pk=active_model.pk).update(
        review_overrides={"chemical-medicine": 0.5}
    )
    response = client_for(administrator).post(
        "/staff/model/",
        {"threshold-medical-device": value, "threshold-in-vitro-diagnostic": "0.42"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Thresholds saved" not in body
    assert f"Threshold for Medical device {error}" in body
    assert 'href="#id_threshold-medical-device"' in body
    assert f'value="{value}"' in body and 'value="0.42"' in body
    active_model.refresh_from_db()
    assert active_model.review_overrides == {"chemical-medicine": 0.5}


def test_valid_thresholds_are_saved(
    administrator: User, active_model: ClassifierVersion
) -> None:
    response = client_for(administrator).post(
        "/staff/model/",
        {"threshold-medical-device": "0.7", "threshold-in-vitro-diagnostic": "1.01"},
    )
    assert said(response) == ["Thresholds saved."]
    active_model.refresh_from_db()
    assert active_model.review_overrides == {
        "medical-device": 0.7,
        "in-vitro-diagnostic": 1.01,
    }
    page = client_for(administrator).get("/staff/model/").content.decode()
    assert 'value="0.7"' in page


# 7. HTTP methods


@pytest.mark.parametrize(
    ("url", "persona"),
    [
        ("/staff/", "officer"),
        ("/staff/enquiries/{ref}/", "officer"),
        ("/staff/model/", "administrator"),
        ("/staff/data-requests/", "administrator"),
        ("/staff/insight/", "administrator"),
    ],
)
def test_staff_pages_answer_get_and_head_but_not_put_or_delete(
    url: str, persona: str, request: Any
) -> None:
    enquiry, _ = submit()
    client = client_for(request.getfixturevalue(persona))
    url = url.format(ref=enquiry.reference)
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200
    for method in (client.put, client.delete, client.patch):
        response = method(url)
        assert response.status_code == 405, (url, method)
        assert "GET" in response["Allow"]


@pytest.mark.parametrize(
    "action", ["accept", "correct", "route", "assign", "move", "note", "reply"]
)
def test_enquiry_actions_take_only_post(officer: User, action: str) -> None:
    enquiry, _ = submit()
    response = client_for(officer).get(
        f"/staff/enquiries/{enquiry.reference}/{action}/"
    )
    assert response.status_code == 405


def test_the_needs_review_filter_agrees_with_the_needs_review_tab(
    officer: User,
) -> None:
    waiting, _ = submit(title="Waiting for a human look")
    predicted(waiting, "additive-manufacturing")
    settled, _ = submit(title="Already confirmed by staff")
    predicted(settled, "additive-manufacturing")
    services.confirm_labels(enquiry=settled, actor=officer)
    manual, _ = submit(title="The model could not classify this one")
    services.flag_for_manual_triage(enquiry_id=manual.pk, reason="model missing")
    client = client_for(officer)
    for query in ({"needs_review": "yes"}, {"tab": "needs-review"}):
        body = client.get("/staff/", query).content.decode()
        assert waiting.reference in body and settled.reference not in body, query
        assert manual.reference in body, query
    client.post(  # staff settle the flagged one: it leaves both
        f"/staff/enquiries/{manual.reference}/correct/",
        {"product_type": "medical-device"},
    )
    for query in ({"needs_review": "yes"}, {"tab": "needs-review"}):
        body = client.get("/staff/", query).content.decode()
        assert manual.reference not in body, query


def test_a_form_sent_from_a_stale_page_gets_the_services_own_page(
    officer: User,
) -> None:
    enquiry, _ = submit()
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    page = client.post(f"/staff/enquiries/{enquiry.reference}/note/", {"note": "Hi"})
    assert page.status_code == 403
    assert "Your form could not be sent" in page.content.decode()
    assert "Sign out" in page.content.decode()  # the service's own layout


def test_assigning_without_saying_to_whom_changes_nothing(officer: User) -> None:
    enquiry, _ = submit()
    enquiry.assigned_to = officer
    enquiry.save()
    response = client_for(officer).post(f"/staff/enquiries/{enquiry.reference}/assign/")
    assert "Choose who to assign it to" in said(response)[0]
    enquiry.refresh_from_db()
    assert enquiry.assigned_to == officer


def test_head_works_wherever_get_does(officer: User, editor: User) -> None:
    anonymous = Client()
    for path in ("/enquiry/", "/staff/login/", "/"):
        assert anonymous.head(path).status_code == 200, path
    assert anonymous.head("/enquiry/check/").status_code == 302  # as GET: no draft
    assert client_for(editor).head("/staff/case-studies/new/").status_code == 200
