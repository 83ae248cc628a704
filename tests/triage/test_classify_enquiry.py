"""The classification service and the sweeper, against the real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from enquiries.models import Enquiry, Event
from tests.helpers import submit
from triage import classifier, services, tasks
from triage.models import ClassifierVersion, Triage

pytestmark = pytest.mark.django_db


def test_it_classifies_a_pending_enquiry_and_records_it(
    active_model: ClassifierVersion,
) -> None:
    enquiry, _ = submit()
    triage = services.classify_enquiry(enquiry_id=enquiry.pk)
    assert triage is not None
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.CLASSIFIED
    assert triage.model_version == "vtest"
    assert triage.explanation
    assert isinstance(triage.needs_review, bool)
    assert Event.objects.filter(enquiry=enquiry, action="classified").count() == 1


def test_a_duplicate_delivery_changes_nothing(active_model: ClassifierVersion) -> None:
    enquiry, _ = submit()
    first = services.classify_enquiry(enquiry_id=enquiry.pk)
    again = services.classify_enquiry(enquiry_id=enquiry.pk)
    assert first is not None and again is None
    assert Triage.objects.count() == 1
    assert Event.objects.filter(action="classified").count() == 1


def test_a_missing_enquiry_is_a_no_op(active_model: ClassifierVersion) -> None:
    assert services.classify_enquiry(enquiry_id=999_999) is None


def test_a_tampered_model_flags_the_enquiry_for_manual_triage(
    active_model: ClassifierVersion, settings: Any
) -> None:
    classifier.load.cache_clear()
    path = settings.CLASSIFIER_DIR / active_model.path
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    enquiry, _ = submit()
    assert services.classify_enquiry(enquiry_id=enquiry.pk) is None
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.MANUAL
    assert "SHA-256" in enquiry.classify_error
    assert Event.objects.filter(
        enquiry=enquiry, action="flagged-for-manual-triage"
    ).exists()


def test_no_model_at_all_flags_for_manual_triage() -> None:
    enquiry, _ = submit()
    services.classify_enquiry(enquiry_id=enquiry.pk)
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.MANUAL


def test_the_sweeper_requeues_stale_enquiries_only(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.CLASSIFY_SWEEP_AFTER_SECONDS = 60
    stale, _ = submit()
    fresh, _ = submit()
    Enquiry.objects.filter(pk=stale.pk).update(
        classify_enqueued_at=timezone.now() - timedelta(minutes=5)
    )
    sent: list[int] = []
    monkeypatch.setattr(tasks.classify_enquiry, "delay", sent.append)
    assert tasks.sweep() == {"requeued": 1, "in_process": 0, "flagged": 0}
    assert sent == [stale.pk]
    stale.refresh_from_db()
    assert stale.classify_attempts == 1
    assert tasks.sweep()["requeued"] == 0  # just re-enqueued: not stale any more
    assert fresh.pk not in sent


def test_the_sweeper_classifies_in_process_when_the_broker_is_down(
    active_model: ClassifierVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(classify_enqueued_at=None)

    def refuse(*args: Any) -> None:
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.classify_enquiry, "delay", refuse)
    assert tasks.sweep() == {"requeued": 0, "in_process": 1, "flagged": 0}
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.CLASSIFIED


def test_repeated_failures_end_in_manual_triage(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.CLASSIFY_MAX_ATTEMPTS = 2
    enquiry, _ = submit()
    monkeypatch.setattr(
        tasks.classify_enquiry, "delay", lambda pk: None
    )  # lost every time
    for _ in range(3):
        Enquiry.objects.filter(pk=enquiry.pk).update(classify_enqueued_at=None)
        tasks.sweep()
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.MANUAL
    assert "attempts" in enquiry.classify_error


def test_submitting_through_the_eager_task_classifies(
    active_model: ClassifierVersion, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enquiry, _ = submit()
    enquiry.refresh_from_db()
    assert enquiry.classification_state == Enquiry.ClassificationState.CLASSIFIED
