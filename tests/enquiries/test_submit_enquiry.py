"""The submit service: one transaction, hashed token, enqueue after commit."""

from __future__ import annotations

from typing import Any

import pytest

from config.celery import app as celery_app
from enquiries.models import Enquiry, hash_token
from tests.helpers import submit
from triage import tasks

pytestmark = pytest.mark.django_db


def test_it_stores_the_enquiry_with_a_reference_and_hashed_token() -> None:
    enquiry, token = submit()
    enquiry.refresh_from_db()
    assert enquiry.reference == f"INN-{enquiry.submitted_at.year}-{enquiry.pk:06d}"
    assert enquiry.status_token_hash == hash_token(token)
    assert Enquiry.objects.by_status_token(token) == enquiry
    assert enquiry.classification_state == Enquiry.ClassificationState.PENDING


def test_it_enqueues_classification_only_after_commit(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(tasks.classify_enquiry, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enquiry, _ = submit()
    assert sent == []  # nothing published inside the transaction
    for callback in callbacks:
        callback()
    assert sent == [enquiry.pk]  # the message carries the id only


def test_a_dead_broker_leaves_the_enquiry_stored_for_the_sweeper(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.classify_enquiry, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        enquiry, _ = submit()
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.PENDING
    assert enquiry.classify_enqueued_at is None  # first in line for the next sweep


def test_a_failed_transaction_leaves_no_row_and_no_file(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enquiries import services
    from tests.helpers import pdf_bytes

    staged = services.stage_upload(
        upload=SimpleUploadedFile("a.pdf", pdf_bytes()), content_type="application/pdf"
    )

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.Attachment.objects, "create", explode)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        submit(staged=[staged])
    assert Enquiry.objects.count() == 0
    assert not (settings.UPLOAD_DIR / "enquiries" / staged.stored_name).exists()


def test_tasks_are_json_only_and_ack_late() -> None:
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit < conf.broker_transport_options.get(
        "visibility_timeout", 3600
    )
