"""The fixed triage taxonomy, read from the copy of the spec this project carries.

Plain Python with no Django imports, so the classifier, forms and importers share one
source of codes. The codes are identical to the published taxonomy and never change;
labels and definitions are mirrored into the database for the admin (TaxonomyTerm).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("taxonomy.json")
KINDS = ("product_types", "process_types", "organisation_types", "development_stages")


@cache
def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
    return data


def codes(kind: str) -> tuple[str, ...]:
    return tuple(term["code"] for term in load()[kind])


def choices(kind: str) -> list[tuple[str, str]]:
    return [(term["code"], term["label"]) for term in load()[kind]]


def label(kind: str, code: str) -> str:
    return dict(choices(kind)).get(code, code)


PRODUCT_TYPES = codes("product_types")
PROCESS_TYPES = codes("process_types")
ORGANISATION_TYPES = codes("organisation_types")
DEVELOPMENT_STAGES = codes("development_stages")
