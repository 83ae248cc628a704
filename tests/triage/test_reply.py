"""Replying with case studies: email, status page, audit and relevance feedback."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from casestudies.models import CaseStudy
from enquiries.models import Enquiry, Event
from tests.helpers import submit
from triage.models import RelevanceFeedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> CaseStudy:
    return CaseStudy.objects.create(
        slug="sweat-sensor", title="Sweat sensor patch", summary="s", body="b",
        product_type="medical-device", status="published",
    )  # fmt: skip


def test_a_reply_with_a_case_study_reaches_the_enquirer(
    officer: Any, study: CaseStudy, django_capture_on_commit_callbacks: Any
) -> None:
    enquiry, token = submit()
    client = Client()
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/enquiries/{enquiry.reference}/reply/",
            {
                "body": "Your patch is likely a class IIa device.",
                "case_studies": ["sweat-sensor"],
            },
        )
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.status == Enquiry.Status.RESPONDED
    assert (
        len(mail.outbox) == 1 and "/case-studies/sweat-sensor/" in mail.outbox[0].body
    )
    status_page = Client().get(f"/status/{token}/").content.decode()
    assert "class IIa device" in status_page and "Sweat sensor patch" in status_page
    # the case-study link can be followed (and only what the office wrote is linked)
    assert 'href="http://testserver/case-studies/sweat-sensor/"' in status_page
    feedback = RelevanceFeedback.objects.get()
    assert feedback.case_study == study and feedback.attached_by == officer
    assert Event.objects.filter(
        enquiry=enquiry, action="replied", actor=officer
    ).exists()


def test_an_empty_reply_is_refused_with_a_message(officer: Any) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(officer)
    response = client.post(
        f"/staff/enquiries/{enquiry.reference}/reply/", {"body": "  "}, follow=True
    )
    assert "Write a reply before sending it" in response.content.decode()
    assert enquiry.replies.count() == 0


def test_only_staff_can_reply(outsider: Any) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(outsider)
    client.post(f"/staff/enquiries/{enquiry.reference}/reply/", {"body": "hi"})
    assert enquiry.replies.count() == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"case_studies": ["sweat-sensor", "no-such-study"]},
         "Not a published case study: no-such-study"),
        ({"canned": "999"}, "That standard response no longer exists"),
        ({"body": "x" * 20_001}, "Reply must be 20,000 characters or fewer"),
        ({"case_studies": [f"s{i}" for i in range(11)]}, "Attach at most 10 case studies"),
    ],
)  # fmt: skip
def test_a_reply_that_cannot_be_sent_as_written_is_refused_and_kept(
    officer: Any, study: CaseStudy, extra: dict[str, Any], message: str
) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(officer)
    data = {"body": "Your patch is likely a class IIa device.", **extra}
    page = client.post(f"/staff/enquiries/{enquiry.reference}/reply/", data)
    body = page.content.decode()
    assert page.status_code == 400
    assert message in body
    assert data["body"][:100] in body  # what was typed comes back
    assert not enquiry.replies.exists() and not mail.outbox


def test_a_note_over_the_limit_is_refused_not_cut(officer: Any) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(officer)
    page = client.post(
        f"/staff/enquiries/{enquiry.reference}/note/", {"note": "n" * 5001}, follow=True
    )
    assert "Note must be 5,000 characters or fewer" in page.content.decode()
    assert not Event.objects.filter(enquiry=enquiry, action="note").exists()


def test_line_breaks_count_once_as_the_text_box_counts_them(officer: Any) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(officer)
    note = "\r\n".join(["abcdefg"] * 600)  # 4,799 characters in the box
    client.post(f"/staff/enquiries/{enquiry.reference}/note/", {"note": note})
    saved = Event.objects.get(enquiry=enquiry, action="note")
    assert saved.note == note.replace("\r\n", "\n")
