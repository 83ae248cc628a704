"""The public journey with the test client: form, check answers, submit, status."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from enquiries.models import Attachment, Enquiry
from tests.helpers import docx_bytes, pdf_bytes, png_bytes, submit

pytestmark = pytest.mark.django_db


def same_page(a: bytes, b: bytes) -> bool:
    """Equal but for the per-response CSP nonce."""
    nonce = re.compile(rb'nonce="[^"]*"')
    return nonce.sub(b"", a) == nonce.sub(b"", b)


def post_form(client: Client, data: dict[str, Any], **files: Any) -> Any:
    return client.post("/enquiry/", {**data, **files})


def complete(
    client: Client,
    data: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    **files: Any,
) -> Any:
    response = post_form(client, data, **files)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/enquiry/check/"
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/enquiry/check/")


def test_it_shows_the_form(client: Client) -> None:
    response = client.get("/enquiry/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Describe your product and your question" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_it_walks_the_whole_journey(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    post_form(client, form_data)
    check = client.get("/enquiry/check/")
    assert check.status_code == 200
    assert "Check your answers" in check.content.decode()
    assert "Hollowmere Devices Ltd" in check.content.decode()
    assert Enquiry.objects.count() == 0  # nothing stored before the final submit

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enquiry/check/")
    assert response.status_code == 302
    done = client.get(response["Location"])
    body = done.content.decode()
    enquiry = Enquiry.objects.get()
    assert re.fullmatch(r"INN-\d{4}-\d{6}", enquiry.reference)
    assert enquiry.reference in body
    found = re.search(r"/status/([A-Za-z0-9_\-]+)/", body)
    assert found is not None
    token = found.group(1)
    assert len(token) >= 43  # 256 random bits, url-safe
    assert token not in enquiry.status_token_hash
    assert enquiry.email == "ada@example.com"
    assert enquiry.response_due > timezone.localdate()

    assert len(mail.outbox) == 1
    assert enquiry.reference in mail.outbox[0].subject
    assert f"/status/{token}/" in mail.outbox[0].body

    status = client.get(f"/status/{token}/")
    assert status.status_code == 200
    assert enquiry.reference in status.content.decode()
    assert "We have not replied yet" in status.content.decode()


def test_the_status_link_is_shown_once_and_the_reference_on_every_refresh(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    response = complete(client, form_data, django_capture_on_commit_callbacks)
    reference = Enquiry.objects.get().reference
    first = client.get(response["Location"]).content.decode()
    assert reference in first and "/status/" in first
    again = client.get(response["Location"])
    assert again.status_code == 200
    assert reference in again.content.decode()
    assert "/status/" not in again.content.decode()
    assert "link in the confirmation email" in again.content.decode()
    assert Client().get(response["Location"])["Location"] == "/"  # another visitor


def test_sending_again_after_going_back_shows_the_confirmation(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    complete(client, form_data, django_capture_on_commit_callbacks)
    for method in (client.post, client.get):  # Back, then "Accept and send" again
        response = method("/enquiry/check/")
        assert response["Location"] == "/enquiry/submitted/"
    page = client.get("/enquiry/submitted/").content.decode()
    assert Enquiry.objects.get().reference in page
    assert Enquiry.objects.count() == 1


def test_a_second_click_racing_the_first_stores_the_enquiry_once(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    files = [SimpleUploadedFile("protocol.pdf", pdf_bytes())]
    post_form(client, form_data, attachments=files)
    stale = client.session["enquiry_draft"]  # what a racing second request read
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/enquiry/check/")
    session = client.session
    session["enquiry_draft"] = stale
    session.save()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = client.post("/enquiry/check/")

    assert second.status_code == 302
    assert second["Location"] == first["Location"] == "/enquiry/submitted/"
    assert callbacks == []  # nothing enqueued or emailed again
    enquiry = Enquiry.objects.get()
    assert Attachment.objects.get().enquiry == enquiry
    assert len(mail.outbox) == 1
    done = client.get(second["Location"]).content.decode()
    assert enquiry.reference in done
    token = re.search(r"/status/([A-Za-z0-9_\-]+)/", done)
    assert token is not None
    assert Enquiry.objects.by_status_token(token.group(1)) == enquiry


def test_files_are_kept_when_another_field_has_an_error(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    files = [SimpleUploadedFile("protocol.pdf", pdf_bytes())]
    refused = post_form(client, {**form_data, "title": ""}, attachments=files)
    assert refused.status_code == 400
    assert "Files already attached: protocol.pdf" in refused.content.decode()
    assert client.get("/enquiry/check/")["Location"] == "/enquiry/"  # not valid yet

    response = complete(client, form_data, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert Attachment.objects.get().original_name == "protocol.pdf"


def test_check_answers_without_a_draft_goes_back_to_the_form(client: Client) -> None:
    response = client.get("/enquiry/check/")
    assert response.status_code == 302
    assert response["Location"] == "/enquiry/"
    assert client.post("/enquiry/check/").status_code == 302
    assert Enquiry.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisation_name", "", "Enter the name of your organisation"),
        ("organisation_type", "", "Select the type of organisation"),
        ("organisation_type", "pirate", "Select a valid choice"),
        ("contact_name", "", "Enter your full name"),
        ("email", "", "Enter your email address"),
        ("email", "not-an-email", "Enter an email address in the correct format"),
        ("phone", "call me maybe", "Enter a telephone number"),
        ("development_stage", "", "Select the stage of development"),
        ("title", "", "Enter a short title for your enquiry"),
        ("title", "x" * 151, "Title must be 150 characters or fewer"),
        ("description", "", "Describe your product and your question"),
        (
            "description",
            "Too short to be useful.",
            "Description must be at least 50 characters",
        ),
        ("description", "y" * 10_001, "Description must be 10,000 characters or fewer"),
        ("product_type_guess", "spaceship", "Select a valid choice"),
        ("consent", "", "Confirm that you have read the privacy notice"),
    ],
)
def test_each_invalid_field_gets_a_specific_message(
    client: Client, form_data: dict[str, Any], field: str, value: str, message: str
) -> None:
    form_data[field] = value
    response = post_form(client, form_data)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "<title>Error:" in body
    assert 'class="govuk-error-summary"' in body
    assert f'href="#id_{field}"' in body
    kept = (
        "Hollowmere Devices Ltd" if field != "organisation_name" else "ada@example.com"
    )
    assert kept in body  # what the user typed is kept
    assert Enquiry.objects.count() == 0


def test_it_accepts_valid_attachments_and_stores_them_privately(
    client: Client, form_data: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    files = [
        SimpleUploadedFile("protocol.pdf", pdf_bytes()),
        SimpleUploadedFile("photo.png", png_bytes()),
        SimpleUploadedFile("letter.docx", docx_bytes()),
    ]
    complete(client, form_data, django_capture_on_commit_callbacks, attachments=files)
    enquiry = Enquiry.objects.get()
    stored = list(enquiry.attachments.order_by("original_name"))
    assert [a.original_name for a in stored] == [
        "letter.docx",
        "photo.png",
        "protocol.pdf",
    ]
    assert {a.content_type for a in stored} >= {"application/pdf", "image/png"}
    for attachment in stored:
        assert attachment.stored_name != attachment.original_name
        path = Path(settings.UPLOAD_DIR) / "enquiries" / attachment.stored_name
        assert path.exists()
        assert not str(path).startswith(str(settings.STATIC_ROOT))
    assert not list((Path(settings.UPLOAD_DIR) / "staging").iterdir())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "virus.pdf",
            b"MZ\x90\x00 this is really an executable",
            "must be a PDF, DOCX, XLSX, PNG or JPEG",
        ),
        (
            "page.png",
            b"<html><script>alert(1)</script></html>",
            "must be a PDF, DOCX, XLSX, PNG or JPEG",
        ),
        (
            "fake.docx",
            b"PK\x03\x04not really a zip",
            "must be a PDF, DOCX, XLSX, PNG or JPEG",
        ),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_it_rejects_disguised_uploads(
    client: Client, form_data: dict[str, Any], name: str, content: bytes, message: str
) -> None:
    response = post_form(
        client, form_data, attachments=[SimpleUploadedFile(name, content)]
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Attachment.objects.count() == 0


def test_it_rejects_oversized_uploads(
    client: Client, form_data: dict[str, Any], settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", pdf_bytes() + b"0" * 2048)
    response = post_form(client, form_data, attachments=[big])
    assert response.status_code == 400
    assert "big.pdf must be 10 MB or smaller" in response.content.decode()


def test_it_rejects_more_than_five_files(
    client: Client, form_data: dict[str, Any]
) -> None:
    files = [SimpleUploadedFile(f"f{i}.pdf", pdf_bytes()) for i in range(6)]
    response = post_form(client, form_data, attachments=files)
    assert response.status_code == 400
    assert "Select 5 files or fewer" in response.content.decode()


def test_a_filled_honeypot_is_refused_with_a_message(
    client: Client, form_data: dict[str, Any]
) -> None:
    form_data["website"] = "http://spam.example"
    response = post_form(client, form_data)
    assert response.status_code == 400
    assert "We could not accept this submission" in response.content.decode()
    assert client.get("/enquiry/check/")["Location"] == "/enquiry/"


def test_submissions_are_rate_limited_per_email(
    client: Client,
    form_data: dict[str, Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SUBMIT_RATE_LIMIT_PER_HOUR = 2
    for _ in range(2):
        complete(client, form_data, django_capture_on_commit_callbacks)
    post_form(client, form_data)
    response = client.post("/enquiry/check/")
    assert response.status_code == 429
    assert "too many attempts" in response.content.decode()
    assert Enquiry.objects.count() == 2


def test_submissions_are_rate_limited_per_ip(
    client: Client,
    form_data: dict[str, Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SUBMIT_RATE_LIMIT_PER_HOUR = 1
    complete(client, form_data, django_capture_on_commit_callbacks)
    form_data["email"] = "someone.else@example.com"
    post_form(client, form_data)
    assert client.post("/enquiry/check/").status_code == 429


def test_status_lookups_are_rate_limited(client: Client, settings: Any) -> None:
    settings.STATUS_RATE_LIMIT_PER_HOUR = 3
    codes = [client.get("/status/nonsense-token/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_wrong_or_expired_token_is_a_plain_404(client: Client) -> None:
    enquiry, token = submit()
    wrong = client.get(f"/status/{token[:-2]}xx/")
    missing = client.get("/status/x/")
    assert wrong.status_code == missing.status_code == 404
    assert same_page(wrong.content, missing.content)
    Enquiry.objects.filter(pk=enquiry.pk).update(
        status_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = client.get(f"/status/{token}/")
    assert expired.status_code == 404
    assert same_page(expired.content, missing.content)


def test_the_status_page_shows_replies(client: Client) -> None:
    enquiry, token = submit()
    enquiry.replies.create(body="Your patch is likely a class IIa device.")
    body = client.get(f"/status/{token}/").content.decode()
    assert "class IIa device" in body


def test_enquirer_text_is_escaped(client: Client, form_data: dict[str, Any]) -> None:
    form_data["title"] = "<script>alert('x')</script>"
    post_form(client, form_data)
    body = client.get("/enquiry/check/").content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


def test_posts_need_a_csrf_token(form_data: dict[str, Any]) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/enquiry/", form_data).status_code == 403
