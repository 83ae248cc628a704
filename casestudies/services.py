"""Writes for case studies: validated JSONL import (all or nothing) and export."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from enquiries import taxonomy
from enquiries.models import Enquiry

from .models import CaseStudy, Revision

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TEXT_LIMITS = {"title": 200, "summary": 5_000, "body": 100_000}


class ImportError_(ValueError):
    """A bad line: the message names the line number and the field."""


def parse_case_study(line: str, *, number: int) -> dict[str, Any]:
    def fail(field: str, problem: str) -> ImportError_:
        return ImportError_(f"line {number}: field '{field}': {problem}")

    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"line {number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise ImportError_(f"line {number}: expected a JSON object")
    slug = row.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 120:
        raise fail("slug", "must be lower-case words joined by hyphens")
    clean: dict[str, Any] = {"slug": slug}
    for field, limit in TEXT_LIMITS.items():
        value = row.get(field)
        if not isinstance(value, str) or not value.strip():
            raise fail(field, "is required and must be text")
        if len(value) > limit:
            raise fail(field, f"must be {limit} characters or fewer")
        clean[field] = value.strip()
    if row.get("product_type") not in taxonomy.PRODUCT_TYPES:
        raise fail("product_type", f"unknown code {row.get('product_type')!r}")
    clean["product_type"] = row["product_type"]
    processes = row.get("process_types", [])
    if not isinstance(processes, list) or any(
        p not in taxonomy.PROCESS_TYPES for p in processes
    ):
        raise fail("process_types", "must be a list of process type codes")
    clean["process_types"] = list(dict.fromkeys(processes))
    organisation = row.get("organisation_type", "") or ""
    if organisation and organisation not in taxonomy.ORGANISATION_TYPES:
        raise fail("organisation_type", f"unknown code {organisation!r}")
    clean["organisation_type"] = organisation
    published = row.get("published")
    try:
        clean["published"] = date.fromisoformat(published) if published else None
    except (TypeError, ValueError) as exc:
        raise fail("published", "must be a date like 2024-05-31") from exc
    return clean


def import_case_studies(*, lines: Iterable[str], demo: bool = False) -> tuple[int, int]:
    """Validate every line, then upsert by slug as published, in one transaction.

    Importing real studies withdraws the demo ones, so the public library and the
    matching never mix demo and real content.
    """
    rows = [
        parse_case_study(line, number=n)
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        if row["slug"] in seen:
            raise ImportError_(
                f"line {number}: field 'slug': duplicate {row['slug']!r}"
            )
        seen.add(row["slug"])
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            defaults = {**row, "status": CaseStudy.Status.PUBLISHED, "is_demo": demo}
            slug = defaults.pop("slug")
            _, was_created = CaseStudy.objects.update_or_create(
                slug=slug, defaults=defaults
            )
            created += was_created
            updated += not was_created
        if not demo:
            CaseStudy.objects.filter(is_demo=True).exclude(slug__in=seen).update(
                status=CaseStudy.Status.WITHDRAWN
            )
    return created, updated


def export_case_studies() -> Iterable[str]:
    for study in CaseStudy.objects.published().order_by("slug"):
        yield json.dumps(
            {
                "slug": study.slug,
                "title": study.title,
                "summary": study.summary,
                "body": study.body,
                "product_type": study.product_type,
                "process_types": study.process_types,
                "organisation_type": study.organisation_type,
                "published": study.published.isoformat() if study.published else None,
            },
            ensure_ascii=False,
        )


class TransitionError(ValueError):
    """A status change that the workflow does not allow."""


TRANSITIONS: dict[str, set[str]] = {
    CaseStudy.Status.DRAFT: {CaseStudy.Status.IN_REVIEW},
    CaseStudy.Status.IN_REVIEW: {CaseStudy.Status.DRAFT, CaseStudy.Status.PUBLISHED},
    CaseStudy.Status.PUBLISHED: {CaseStudy.Status.WITHDRAWN},
    CaseStudy.Status.WITHDRAWN: {CaseStudy.Status.DRAFT},
}
EDITABLE = ("slug", "title", "summary", "body", "product_type", "process_types",
            "organisation_type", "published")  # fmt: skip
GENERIC_WORDS = {
    "ltd", "limited", "plc", "inc", "llp", "the", "and", "of", "for", "group",
    "company",
    "university", "college", "institute", "trust", "nhs", "foundation", "hospital",
    "hospitals", "pharma", "pharmaceuticals", "medical", "health", "healthcare",
    "services", "labs", "laboratories", "therapeutics", "devices", "diagnostics",
    "bio", "biotech", "technologies", "solutions", "systems", "uk", "london",
}  # fmt: skip


def _record(case_study: CaseStudy, *, editor: User | None, action: str) -> None:
    Revision.objects.create(
        case_study=case_study,
        editor=editor,
        action=action,
        status=case_study.status,
        title=case_study.title,
        summary=case_study.summary,
        body=case_study.body,
    )


@transaction.atomic
def save_case_study(
    *, case_study: CaseStudy | None, editor: User | None, data: dict[str, Any]
) -> CaseStudy:
    """Create a draft or update the text and labels of an existing study."""
    created = case_study is None
    study = case_study or CaseStudy(status=CaseStudy.Status.DRAFT)
    for field in EDITABLE:
        if field in data:
            setattr(study, field, data[field])
    study.save()
    _record(study, editor=editor, action="created" if created else "edited")
    return study


@transaction.atomic
def start_case_study_from_enquiry(
    *, enquiry: Enquiry, editor: User | None
) -> CaseStudy:
    """An empty draft linked to a closed enquiry: nothing is copied across."""
    if enquiry.status not in (Enquiry.Status.CLOSED, Enquiry.Status.RESPONDED):
        raise TransitionError(
            "Only a responded or closed enquiry can become a case study"
        )
    study = CaseStudy.objects.create(
        slug=f"draft-{secrets.token_hex(4)}",
        title="Untitled draft",
        summary="",
        body="",
        product_type="medical-device",
        status=CaseStudy.Status.DRAFT,
        source_enquiry=enquiry,
    )
    _record(study, editor=editor, action="started from an enquiry")
    return study


@transaction.atomic
def move_case_study(
    *, case_study: CaseStudy, editor: User | None, to: str
) -> CaseStudy:
    """Guarded status change: draft -> in review -> published -> withdrawn."""
    study = CaseStudy.objects.select_for_update().get(pk=case_study.pk)
    if to not in TRANSITIONS.get(study.status, set()):
        raise TransitionError(
            f"A case study that is {study.get_status_display().lower()} cannot be "
            f"moved to {to}"
        )
    if to == CaseStudy.Status.PUBLISHED:
        if not (study.summary.strip() and study.body.strip()):
            raise TransitionError("Write a summary and a body before publishing")
        study.published = study.published or timezone.localdate()
    study.status = to
    study.save()
    _record(study, editor=editor, action=f"moved to {to}")
    return study


def anonymisation_flags(case_study: CaseStudy) -> list[str]:
    """Names, emails and organisation names of the source enquiry found in the draft."""
    enquiry = case_study.source_enquiry
    if enquiry is None:
        return []
    text = f"{case_study.title}\n{case_study.summary}\n{case_study.body}".lower()
    candidates = {enquiry.contact_name, enquiry.email, enquiry.email.split("@")[0],
                  enquiry.organisation_name, enquiry.phone}  # fmt: skip
    for phrase in (enquiry.contact_name, enquiry.organisation_name):
        candidates |= {
            w for w in re.findall(r"[\w'-]+", phrase)
            if len(w) >= 3 and w.lower() not in GENERIC_WORDS
        }  # fmt: skip
    found = []
    for item in sorted(c for c in candidates if c and len(c) >= 3):
        if re.search(rf"(?<!\w){re.escape(item.lower())}(?!\w)", text):
            found.append(item)
    return found
