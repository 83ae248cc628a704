"""Triage services: transitions, clock stops, provenance, routing rules, retraining."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from enquiries import taxonomy
from enquiries.models import Enquiry, Event
from enquiries.workdays import add_working_days
from tests.helpers import submit
from triage import services
from triage.models import ClassifierVersion, RoutingRule, Team

pytestmark = pytest.mark.django_db
S = Enquiry.Status
ALL = [s.value for s in S]


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("to", ALL)
def test_every_transition_is_allowed_or_refused(start: str, to: str) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=start)
    enquiry.refresh_from_db()
    if to in services.TRANSITIONS[start]:
        assert services.change_status(enquiry=enquiry, actor=None, to=to).status == to
        assert Event.objects.filter(
            enquiry=enquiry, action="status", new={"status": to}
        ).exists()
    else:
        with pytest.raises(services.TriageError):
            services.change_status(enquiry=enquiry, actor=None, to=to)
        enquiry.refresh_from_db()
        assert enquiry.status == start


def test_the_clock_stops_while_awaiting_the_enquirer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enquiry, _ = submit()
    due = enquiry.response_due
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 12, 23))
    services.change_status(enquiry=enquiry, actor=None, to=S.AWAITING_ENQUIRER)
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 12, 30))
    resumed = services.change_status(enquiry=enquiry, actor=None, to=S.IN_TRIAGE)
    # 24 Dec, 29 Dec, 30 Dec are the working days paused (25-28 Dec are holidays/weekend)
    assert resumed.response_due == add_working_days(due, 3)
    assert resumed.clock_paused_at is None


def test_paused_enquiries_are_never_overdue(officer: Any) -> None:
    enquiry, _ = submit()
    Enquiry.objects.filter(pk=enquiry.pk).update(response_due=date(2020, 1, 1))
    assert Enquiry.objects.overdue().count() == 1
    services.change_status(enquiry=enquiry, actor=None, to=S.AWAITING_ENQUIRER)
    assert Enquiry.objects.overdue().count() == 0


def test_a_correction_keeps_provenance(
    officer: Any, active_model: ClassifierVersion
) -> None:
    enquiry, _ = submit()
    triage = services.classify_enquiry(enquiry_id=enquiry.pk)
    assert triage is not None
    services.confirm_labels(
        enquiry=enquiry,
        actor=officer,
        product_type="in-vitro-diagnostic",
        process_types=["process-analytics"],
    )
    triage.refresh_from_db()
    assert (
        triage.product_type != "" and triage.final_product_type == "in-vitro-diagnostic"
    )
    assert triage.labels_confirmed_by == officer and triage.labels_confirmed_at
    event = Event.objects.get(enquiry=enquiry, action="corrected")
    assert event.actor == officer and (event.old or {})["by"] == "model"
    assert event.new == {
        "product_type": "in-vitro-diagnostic",
        "process_types": ["process-analytics"],
    }


def test_routing_rules_follow_precedence_and_process_types() -> None:
    teams = services.teams_for(
        product_type="chemical-medicine", process_types=["continuous-manufacturing"]
    )
    assert [t.slug for t in teams] == ["medicines", "manufacturing"]
    RoutingRule.objects.create(
        product_type="chemical-medicine",
        team=Team.objects.get(slug="borderline"),
        precedence=10,
    )
    teams = services.teams_for(product_type="chemical-medicine", process_types=[])
    assert [t.slug for t in teams] == ["borderline"]


def review_every_product_above(model: ClassifierVersion, threshold: float) -> None:
    """Set one review threshold for every product type on the active model."""
    codes = [code for code, _ in taxonomy.choices("product_types")]
    ClassifierVersion.objects.filter(pk=model.pk).update(
        review_overrides=dict.fromkeys(codes, threshold)
    )


def test_confident_predictions_are_routed_automatically(
    active_model: ClassifierVersion,
) -> None:
    review_every_product_above(active_model, 0.0)
    enquiry, _ = submit()
    triage = services.classify_enquiry(enquiry_id=enquiry.pk)
    assert triage is not None and not triage.needs_review
    enquiry.refresh_from_db()
    assert enquiry.status == S.ROUTED and enquiry.routings.exists()


def test_uncertain_predictions_wait_in_needs_review(
    active_model: ClassifierVersion,
) -> None:
    review_every_product_above(active_model, 1.01)
    enquiry, _ = submit()
    triage = services.classify_enquiry(enquiry_id=enquiry.pk)
    assert triage is not None and triage.needs_review
    enquiry.refresh_from_db()
    assert enquiry.status == S.NEW and not enquiry.routings.exists()


def test_a_worse_retrain_is_not_activated(
    active_model: ClassifierVersion, tmp_path: Path, settings: Any
) -> None:
    ClassifierVersion.objects.filter(pk=active_model.pk).update(
        metrics={"cv_product_accuracy": 0.9, "cv_process_micro_f1": 0.9}
    )
    rows = services.read_corpus()[::4]
    labels = sorted({str(r["product_type"]) for r in rows})
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    with (noisy / "shuffled.jsonl").open("w") as out:
        for i, row in enumerate(rows):  # labels unrelated to the text: a worse model
            out.write(
                json.dumps(
                    {
                        **row,
                        "product_type": labels[i % len(labels)],
                        "process_types": [],
                    }
                )
                + "\n"
            )
    candidate = services.retrain_if_better(corpus=noisy)
    assert not candidate.is_active
    assert ClassifierVersion.objects.active() == ClassifierVersion.objects.get(
        pk=active_model.pk
    )


def test_a_better_retrain_is_activated(active_model: ClassifierVersion) -> None:
    ClassifierVersion.objects.filter(pk=active_model.pk).update(
        metrics={"cv_product_accuracy": 0.1, "cv_process_micro_f1": 0.1}
    )
    candidate = services.retrain_if_better()
    candidate.refresh_from_db()
    assert candidate.is_active


def test_the_timeline_reads_as_changes_not_data(officer: Any) -> None:
    enquiry, _ = submit()
    client = Client()
    client.force_login(officer)
    team = Team.objects.get(slug="devices")
    client.post(f"/staff/enquiries/{enquiry.reference}/route/", {"teams": [team.pk]})
    body = client.get(f"/staff/enquiries/{enquiry.reference}/").content.decode()
    assert f"teams: none → {team.slug}" in body
    assert "{&#x27;" not in body and "{'" not in body  # no raw dictionaries


def test_the_timeline_says_what_was_there_before(officer: Any) -> None:
    enquiry, _ = submit()
    Event.objects.create(
        enquiry=enquiry, actor=officer, action="corrected",
        old={"product_type": "medicine", "by": "model"},
        new={"product_type": "medical-device"},
    )  # fmt: skip
    client = Client()
    client.force_login(officer)
    body = client.get(f"/staff/enquiries/{enquiry.reference}/").content.decode()
    assert "product type: medicine → medical-device" in body
    assert "previously by: model" in body  # not as if the model made the change
