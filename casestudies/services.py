"""Writes for case studies: validated JSONL import (all or nothing) and export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction

from enquiries import taxonomy

from .models import CaseStudy

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


def import_case_studies(*, lines: Iterable[str]) -> tuple[int, int]:
    """Validate every line, then upsert by slug as published, in one transaction."""
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
            defaults = {**row, "status": CaseStudy.Status.PUBLISHED}
            slug = defaults.pop("slug")
            _, was_created = CaseStudy.objects.update_or_create(
                slug=slug, defaults=defaults
            )
            created += was_created
            updated += not was_created
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
