"""Helpers shared by tests: valid form data and small files of each kind."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from enquiries import services as enquiry_services
from enquiries.models import Enquiry

VALID: dict[str, Any] = {
    "organisation_name": "Hollowmere Devices Ltd",
    "organisation_type": "sme",
    "contact_name": "Ada Example",
    "email": "ada@example.com",
    "phone": "01632 960 001",
    "development_stage": "early-development",
    "title": "Wearable patch that measures sweat lactate",
    "description": "We are building an adhesive patch that measures lactate in sweat "
    "during exercise rehabilitation after a heart attack and sends readings to the "
    "cardiac rehab nurse. Is this a medical device and which class would it be?",
    "product_type_guess": "",
    "consent": "on",
}


def submit(**overrides: Any) -> tuple[Enquiry, str]:
    fields = {k: v for k, v in VALID.items() if k != "consent"}
    fields.update(overrides)
    return enquiry_services.submit_enquiry(**fields)


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"
