"""Writes and side effects for enquiries: staging uploads, submitting, acknowledging."""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
from dataclasses import asdict, dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from triage import tasks

from . import taxonomy
from .models import Attachment, Enquiry, TaxonomyTerm, hash_token
from .workdays import add_working_days

log = logging.getLogger(__name__)

STAGING = "staging"


@dataclass(frozen=True)
class StagedFile:
    """An upload kept between the form and check-your-answers pages."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _upload_path(*parts: str) -> Path:
    path = Path(settings.UPLOAD_DIR).joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def stage_upload(*, upload: UploadedFile[Any], content_type: str) -> StagedFile:
    """Write an upload under a random name outside any web-served folder."""
    stored_name = secrets.token_hex(16)
    digest = hashlib.sha256()
    size = 0
    with _upload_path(STAGING, stored_name).open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    original = Path(upload.name or "attachment").name[:255]
    return StagedFile(stored_name, original, content_type, size, digest.hexdigest())


def discard_staged(*, staged: list[StagedFile]) -> None:
    for item in staged:
        _upload_path(STAGING, item.stored_name).unlink(missing_ok=True)


def attachment_path(attachment: Attachment) -> Path:
    return _upload_path("enquiries", attachment.stored_name)


def submit_enquiry(
    *,
    organisation_name: str,
    organisation_type: str,
    contact_name: str,
    email: str,
    development_stage: str,
    title: str,
    description: str,
    phone: str = "",
    product_type_guess: str = "",
    confidential: bool = False,
    staged: list[StagedFile] | None = None,
    notify: bool = True,
    token: str = "",
) -> tuple[Enquiry, str]:
    """Store an enquiry and its files in one transaction; return it and its token.

    The status token is returned once and stored only as a hash. Classification is
    enqueued after commit; if the broker is down the sweeper picks the enquiry up.

    A caller may pass the token (from new_status_token, made when its draft began)
    to make the submission idempotent: if an enquiry with that token is already
    stored, as when a second click races the first, that enquiry is returned and
    nothing is stored, sent or enqueued again.
    """
    token = token or new_status_token()
    now = timezone.now()
    moved: list[Path] = []
    try:
        with transaction.atomic():
            pk = _next_enquiry_id()
            enquiry = Enquiry.objects.create(
                id=pk,
                reference=f"INN-{now.year}-{pk:06d}"
                if pk
                else f"TMP-{secrets.token_hex(8)}",
                status_token_hash=hash_token(token),
                status_token_expires_at=now
                + timedelta(days=settings.STATUS_LINK_VALID_DAYS),
                organisation_name=organisation_name,
                organisation_type=organisation_type,
                contact_name=contact_name,
                email=email,
                phone=phone,
                development_stage=development_stage,
                title=title,
                description=description,
                product_type_guess=product_type_guess,
                confidential=confidential,
                consent_given_at=now,
                submitted_at=now,
                response_due=add_working_days(
                    timezone.localdate(now), settings.RESPONSE_TARGET_WORKING_DAYS
                ),
                classify_enqueued_at=now,
            )
            if not pk:  # the reference comes from the id the insert gave
                enquiry.reference = f"INN-{now.year}-{enquiry.pk:06d}"
                enquiry.save(update_fields=["reference"])
            for item in staged or []:
                target = _upload_path("enquiries", item.stored_name)
                shutil.move(_upload_path(STAGING, item.stored_name), target)
                moved.append(target)
                Attachment.objects.create(
                    enquiry=enquiry,
                    original_name=item.original_name,
                    stored_name=item.stored_name,
                    content_type=item.content_type,
                    size=item.size,
                    sha256=item.sha256,
                )
            transaction.on_commit(partial(tasks.enqueue_classification, enquiry.pk))
            if notify:
                transaction.on_commit(
                    partial(send_acknowledgement, enquiry=enquiry, token=token),
                    robust=True,
                )
    except BaseException as error:
        for path in moved:  # nothing half-stored: files go with the rolled-back rows
            path.unlink(missing_ok=True)
        if isinstance(error, IntegrityError):  # the token is unique: a repeat?
            existing = Enquiry.objects.filter(status_token_hash=hash_token(token))
            if first := existing.first():
                log.info("repeated submission of enquiry %s ignored", first.pk)
                return first, token
        raise
    return enquiry, token


def new_status_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def _next_enquiry_id() -> int | None:
    """On PostgreSQL take the id from its sequence first, so the row is inserted
    once with its final reference (an update would rewrite every index entry,
    full-text included). Elsewhere None: insert, then set the reference."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
            [Enquiry._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0])


def sync_taxonomy() -> int:
    """Mirror taxonomy.json into TaxonomyTerm rows (codes fixed; labels refreshed)."""
    count = 0
    for kind in taxonomy.KINDS:
        for position, term in enumerate(taxonomy.load()[kind]):
            TaxonomyTerm.objects.update_or_create(
                kind=kind,
                code=term["code"],
                defaults={
                    "label": term["label"],
                    "definition": term.get("definition", ""),
                    "position": position,
                },
            )
            count += 1
    return count


def status_url(token: str) -> str:
    return f"{settings.SITE_URL}/status/{token}/"


def send_acknowledgement(*, enquiry: Enquiry, token: str) -> None:
    """Email the reference and private status link; a mail failure is logged only."""
    body = render_to_string(
        "enquiries/email/acknowledgement.txt",
        {"enquiry": enquiry, "status_url": status_url(token), "settings": settings},
    )
    try:
        send_mail(
            subject=f"Enquiry received: {enquiry.reference}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[enquiry.email],
        )
    except Exception:
        log.exception("acknowledgement email failed for enquiry %s", enquiry.pk)
        return
    Enquiry.objects.filter(pk=enquiry.pk).update(acknowledged_at=timezone.now())
