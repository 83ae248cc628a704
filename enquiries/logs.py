"""Structured JSON logs with a request id, and no personal data or tokens."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
# Status links carry a secret; emails are personal data. Neither reaches a log line.
REDACT = [
    (re.compile(r"/status/[A-Za-z0-9_\-]+"), "/status/[redacted]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"(Token|token=)\s*[A-Za-z0-9_\-]{16,}"), r"\1 [redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACT:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id.get(),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def request_ids(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Take X-Request-ID from the proxy (or make one), log with it, echo it back."""

    def middleware(request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = (
            incoming
            if re.fullmatch(r"[A-Za-z0-9\-]{8,64}", incoming)
            else uuid.uuid4().hex
        )
        token = request_id.set(rid)
        try:
            response = get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response

    return middleware
