"""Retention and erasure leave no trace of a person; export returns what is held."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from enquiries import privacy
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Event
from tests.helpers import pdf_bytes, submit
from triage import services

pytestmark = pytest.mark.django_db
MARKER = "zelda.marker@example.net"


def everything(settings: Any) -> str:
    """Every row of every table, and every stored file, as one text."""
    out = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=out)
    files = "".join(
        p.read_bytes().decode("latin-1")
        for p in Path(settings.UPLOAD_DIR).rglob("*")
        if p.is_file()
    )
    return out.getvalue() + files


def marked_enquiry(officer: User) -> Enquiry:
    staged = enquiry_services.stage_upload(
        upload=SimpleUploadedFile("cv.pdf", pdf_bytes() + MARKER.encode()),
        content_type="application/pdf",
    )
    enquiry, _ = submit(
        email=MARKER,
        contact_name="Zelda Marker",
        description=f"Please reply to {MARKER} about our inhaler clip, which we have been developing for a year.",
        staged=[staged],
    )
    services.reply_to_enquiry(
        enquiry=enquiry,
        author=officer,
        body=f"Dear Zelda Marker ({MARKER}), thank you.",
        case_study_slugs=[],
    )
    services.add_note(enquiry=enquiry, actor=officer, text=f"Called {MARKER}")
    return enquiry


def test_erasure_leaves_no_trace_in_any_table_or_file(
    officer: User, administrator: User, settings: Any
) -> None:
    enquiry = marked_enquiry(officer)
    assert MARKER in everything(settings)
    client = Client()
    client.force_login(administrator)
    response = client.post(
        "/staff/data-requests/",
        {"email": MARKER, "action": "erase", "confirm": "yes"},
        follow=True,
    )
    assert "Personal data erased from 1 enquiry." in response.content.decode()
    dump = everything(settings)
    assert MARKER not in dump and "Zelda Marker" not in dump
    assert Event.objects.filter(
        enquiry=enquiry, action="personal-data-erased", actor=administrator
    ).exists()
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()  # the tombstone remains


def test_erasure_needs_confirmation_and_permission(
    officer: User, settings: Any
) -> None:
    marked_enquiry(officer)
    client = Client()
    client.force_login(officer)  # a triage officer may not erase
    assert (
        client.post(
            "/staff/data-requests/",
            {"email": MARKER, "action": "erase", "confirm": "yes"},
        ).status_code
        == 403
    )
    assert MARKER in everything(settings)


def test_export_returns_everything_held(officer: User, administrator: User) -> None:
    marked_enquiry(officer)
    client = Client()
    client.force_login(administrator)
    response = client.post(
        "/staff/data-requests/", {"email": MARKER, "action": "export"}
    )
    data = json.loads(response.content)
    assert response["Content-Disposition"].startswith("attachment")
    assert data["enquiries"][0]["email"] == MARKER
    assert data["enquiries"][0]["attachments"][0]["name"] == "cv.pdf"
    assert "thank you" in data["enquiries"][0]["replies"][0]["body"]


def test_purge_applies_retention_to_closed_enquiries_only(
    officer: User, settings: Any
) -> None:
    old = marked_enquiry(officer)
    recent, _ = submit(email="recent@example.com")
    Enquiry.objects.filter(pk__in=[old.pk, recent.pk]).update(
        status=Enquiry.Status.CLOSED
    )
    Enquiry.objects.filter(pk=old.pk).update(
        updated_at=old.updated_at
        - timedelta(days=settings.RETENTION_PERSONAL_DATA_DAYS + 1)
    )
    report = privacy.purge_expired()
    assert (
        report.anonymised == 1 and report.attachments_deleted == 0
    )  # files went with the erasure
    assert MARKER not in everything(settings)
    assert Enquiry.objects.get(pk=recent.pk).email == "recent@example.com"


def test_old_audit_events_are_deleted(settings: Any) -> None:
    enquiry, _ = submit()
    Event.objects.create(enquiry=enquiry, action="note", note="old")
    Event.objects.filter(note="old").update(
        at=enquiry.submitted_at - timedelta(days=settings.RETENTION_AUDIT_DAYS + 1)
    )
    assert privacy.purge_expired().events_deleted == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "action": "export"}, "Enter the email address the request is about"),
        ({"email": "not-an-email", "action": "erase", "confirm": "yes"},
         "Enter an email address in the correct format"),
        ({"email": MARKER, "action": "erase"}, "Tick the box to confirm the erasure"),
        ({"email": MARKER, "action": "bogus"}, "Choose Export as JSON or Erase"),
    ],
)  # fmt: skip
def test_a_data_request_that_cannot_be_done_says_why_and_keeps_the_email(
    officer: User,
    administrator: User,
    settings: Any,
    data: dict[str, str],
    message: str,
) -> None:
    marked_enquiry(officer)
    client = Client()
    client.force_login(administrator)
    page = client.post("/staff/data-requests/", data)
    body = page.content.decode()
    assert page.status_code == 400
    assert message in body and 'class="govuk-error-summary"' in body
    assert f'value="{data["email"]}"' in body
    assert MARKER in everything(settings)  # nothing was erased


def test_erasing_an_address_nobody_used_says_so(administrator: User) -> None:
    client = Client()
    client.force_login(administrator)
    page = client.post(
        "/staff/data-requests/",
        {"email": "nobody@example.org", "action": "erase", "confirm": "yes"},
        follow=True,
    )
    assert "No enquiry has the email address nobody@example.org" in (
        page.content.decode()
    )
    assert "Data requests" in page.content.decode()  # linked from the header
