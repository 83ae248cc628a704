"""Data protection: retention purge, erasure on request, and subject access export.

Erasure replaces the enquirer's details with placeholders everywhere they were
copied (enquiry fields, text, replies, audit events), deletes stored files, and
leaves a tombstone event that names no one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import CLOSED_STATES, Enquiry, Event

ERASED = "[erased]"


@dataclass
class PurgeReport:
    anonymised: int = 0
    attachments_deleted: int = 0
    events_deleted: int = 0
    staged_files_deleted: int = 0


def _scrub(text: str, secrets_: list[str]) -> str:
    for secret in secrets_:
        if len(secret) >= 3:  # whole words only: "info@x" never eats "information"
            pattern = rf"(?<!\w){re.escape(secret)}(?!\w)"
            text = re.sub(pattern, ERASED, text, flags=re.IGNORECASE)
    return text


def _identifiers(enquiry: Enquiry) -> list[str]:
    """The enquirer's details as they may have been copied: whole and in parts."""
    found = {
        enquiry.email,
        enquiry.contact_name,
        enquiry.phone,
        enquiry.email.split("@")[0],
    }
    found |= {w for w in re.findall(r"[\w'-]+", enquiry.contact_name) if len(w) >= 3}
    digits = re.sub(r"\D", "", enquiry.phone)
    if len(digits) >= 7:
        found.add(digits)
    if enquiry.organisation_type == "individual":
        found.add(enquiry.organisation_name)
    return sorted(found - {"", ERASED}, key=len, reverse=True)


def _scrub_json(value: Any, secrets_: list[str]) -> Any:
    if isinstance(value, str):
        return _scrub(value, secrets_)
    if isinstance(value, list):
        return [_scrub_json(v, secrets_) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, secrets_) for k, v in value.items()}
    return value


def _delete_files(enquiry: Enquiry) -> int:
    from .services import attachment_path

    count = 0
    for attachment in enquiry.attachments.all():
        attachment_path(attachment).unlink(missing_ok=True)
        attachment.delete()
        count += 1
    return count


@transaction.atomic
def anonymise_enquiry(*, enquiry: Enquiry, reason: str, actor: Any = None) -> None:
    """Remove everything that identifies the enquirer from one enquiry."""
    secrets_ = _identifiers(enquiry)
    enquiry.title = _scrub(enquiry.title, secrets_)
    enquiry.description = _scrub(enquiry.description, secrets_)
    enquiry.contact_name = ERASED
    enquiry.email = f"erased-{enquiry.pk}@invalid.example"
    enquiry.phone = ""
    if enquiry.organisation_type == "individual":
        enquiry.organisation_name = ERASED
    enquiry.save()
    for reply in enquiry.replies.all():
        reply.body = _scrub(reply.body, secrets_)
        reply.save(update_fields=["body"])
    for event in enquiry.events.all():
        event.note = _scrub(event.note, secrets_)
        event.old = _scrub_json(event.old, secrets_)
        event.new = _scrub_json(event.new, secrets_)
        event.save(update_fields=["note", "old", "new"])
    _delete_files(enquiry)
    Event.objects.create(
        enquiry=enquiry,
        actor=actor,
        system_actor="" if actor else "retention",
        action="personal-data-erased",
        note=reason,
    )


def erase_enquirer(*, email: str, actor: Any, reason: str) -> int:
    """Erase one person's data from every enquiry they sent (right to erasure)."""
    enquiries = list(Enquiry.objects.filter(email__iexact=email.strip()))
    for enquiry in enquiries:
        anonymise_enquiry(enquiry=enquiry, reason=reason, actor=actor)
    return len(enquiries)


def export_enquirer(*, email: str) -> dict[str, Any]:
    """Everything held about one email address (subject access request)."""
    out = []
    for e in Enquiry.objects.filter(email__iexact=email.strip()).prefetch_related(
        "replies", "attachments", "events"
    ):
        out.append(
            {
                "reference": e.reference,
                "submitted_at": e.submitted_at.isoformat(),
                "status": e.status,
                "organisation_name": e.organisation_name,
                "organisation_type": e.organisation_type,
                "contact_name": e.contact_name,
                "email": e.email,
                "phone": e.phone,
                "development_stage": e.development_stage,
                "title": e.title,
                "description": e.description,
                "product_type_guess": e.product_type_guess,
                "confidential": e.confidential,
                "consent_given_at": e.consent_given_at.isoformat(),
                "attachments": [
                    {"name": a.original_name, "size": a.size, "type": a.content_type}
                    for a in e.attachments.all()
                ],
                "replies": [
                    {"sent_at": r.sent_at.isoformat(), "body": r.body}
                    for r in e.replies.all()
                ],
                "history": [
                    {
                        "at": ev.at.isoformat(),
                        "action": ev.action,
                        "note": ev.note,
                        "old": ev.old,
                        "new": ev.new,
                    }
                    for ev in e.events.all()
                ],
            }
        )
    return {"email": email, "exported_at": timezone.now().isoformat(), "enquiries": out}


def purge_expired() -> PurgeReport:
    """Apply the retention periods (settings RETENTION_*) to closed enquiries."""
    now = timezone.now()
    report = PurgeReport()
    closed = Enquiry.objects.filter(status__in=CLOSED_STATES)
    personal_cutoff = now - timedelta(days=settings.RETENTION_PERSONAL_DATA_DAYS)
    for enquiry in closed.filter(updated_at__lt=personal_cutoff).exclude(
        contact_name=ERASED
    ):
        anonymise_enquiry(enquiry=enquiry, reason="retention period ended")
        report.anonymised += 1
    files_cutoff = now - timedelta(days=settings.RETENTION_ATTACHMENT_DAYS)
    for enquiry in closed.filter(
        updated_at__lt=files_cutoff, attachments__isnull=False
    ).distinct():
        report.attachments_deleted += _delete_files(enquiry)
    audit_cutoff = now - timedelta(days=settings.RETENTION_AUDIT_DAYS)
    old_events = Event.objects.filter(at__lt=audit_cutoff).exclude(
        Q(action="personal-data-erased")
    )
    report.events_deleted = old_events.delete()[0]
    report.staged_files_deleted = _delete_abandoned_uploads()
    call_command("clearsessions")  # drafts of abandoned forms hold personal data
    return report


def _delete_abandoned_uploads() -> int:
    """Files staged for a form that was never sent, older than a session lasts."""
    folder = Path(settings.UPLOAD_DIR) / "staging"
    cutoff = time.time() - max(settings.SESSION_COOKIE_AGE, 3600) * 2
    count = 0
    for path in folder.glob("*") if folder.exists() else []:
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            count += 1
    return count
