from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from enquiries.models import Enquiry
from tests.helpers import submit
from triage.models import ClassifierVersion

pytestmark = pytest.mark.django_db


def test_healthz_reports_backlog_age_and_model(
    client: Client, active_model: ClassifierVersion
) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=10)
    )
    response = client.get("/healthz")
    report = response.json()
    assert report["database"] == "ok"
    assert 590 <= report["oldest_unclassified_seconds"] <= 700
    assert report["model_version"] == "vtest"
    assert response.status_code == (200 if report["broker"] == "ok" else 503)
    assert enquiry.email not in response.content.decode()


def test_healthz_with_nothing_pending(client: Client) -> None:
    report = client.get("/healthz").json()
    assert report["oldest_unclassified_seconds"] == 0
    assert report["model_version"] is None
