"""Dashboard figures on a known dataset equal hand-computed values."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client

from enquiries.models import Enquiry, Reply
from tests.helpers import submit
from triage import insight, services
from triage.models import Team, Triage

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, tzinfo=UTC)


@pytest.fixture
def dataset(officer: User) -> list[Enquiry]:
    """Three enquiries in one week of March 2026, answered after 2, 5 and 25 working days."""
    made = []
    for submitted, replied, product, final, processes in [
        (
            at(2026, 3, 2),
            at(2026, 3, 4),
            "medical-device",
            "medical-device",
            ["additive-manufacturing"],
        ),
        (
            at(2026, 3, 3),
            at(2026, 3, 10),
            "chemical-medicine",
            "drug-device-combination",
            [],
        ),
        (
            at(2026, 3, 4),
            at(2026, 4, 10),
            "medical-device",
            "",
            ["additive-manufacturing", "digital-design"],
        ),
    ]:
        enquiry, _ = submit(title=f"Printed implant {product}")
        Enquiry.objects.filter(pk=enquiry.pk).update(submitted_at=submitted)
        Reply.objects.create(enquiry=enquiry, body="answer", sent_at=replied)
        Triage.objects.create(
            enquiry=enquiry, product_type=product, product_confidence=0.9, process_types=processes,
            needs_review=final == "", model_version="v", classified_at=submitted,
            final_product_type=final, labels_confirmed_at=replied if final else None,
        )  # fmt: skip
        made.append(enquiry)
    services.route_enquiry(
        enquiry=made[0], actor=None, teams=[Team.objects.get(slug="devices")]
    )
    services.assign_enquiry(enquiry=made[0], actor=None, assignee=officer)
    return made


def test_service_figures(dataset: list[Enquiry]) -> None:
    data = insight.service(insight.Window(date(2026, 3, 1), date(2026, 4, 30)))
    # 2 Mar -> 4 Mar = 2; 3 Mar -> 10 Mar = 5; 4 Mar -> 10 Apr = 25 (Good Friday 3 Apr excluded)
    assert data["answered"] == 3
    assert data["median_days"] == 5
    assert data["p90_days"] == 21.0  # numpy linear: 5 + 0.8 * (25 - 5)
    assert data["within_target"] == pytest.approx(2 / 3)
    assert data["weeks"][0] == {"week": date(2026, 3, 2), "received": 3, "answered": 1}
    assert data["teams"] == [{"team": "Medical devices", "backlog": 1, "overdue": 0}]
    assert data["people"] == [{"person": "officer", "open": 1}]


def test_working_days_match_the_calendar() -> None:
    days = insight.working_days(
        [date(2026, 3, 4), date(2026, 12, 23)], [date(2026, 4, 10), date(2026, 12, 30)]
    )
    assert list(days) == [25, 3]


def test_model_figures(dataset: list[Enquiry]) -> None:
    data = insight.model_quality(insight.Window(date(2026, 3, 1), date(2026, 4, 30)))
    assert data["classified"] == 3 and data["confirmed"] == 2
    assert data["auto_accepted"] == pytest.approx(2 / 3)
    by_class = {r["code"]: r for r in data["by_class"]}
    assert by_class["medical-device"]["agreement"] == 1.0
    assert by_class["chemical-medicine"]["agreement"] == 0.0
    assert data["confusion"] == [
        {"predicted": "chemical-medicine", "final": "drug-device-combination", "n": 1}
    ]


def test_horizon_figures(dataset: list[Enquiry]) -> None:
    # middle of the window is 14 Feb, so all three March enquiries are "later"
    data = insight.horizon(insight.Window(date(2026, 1, 1), date(2026, 3, 31)))
    rising = {r["code"]: r for r in data["rising_process_types"]}
    assert rising["additive-manufacturing"] == {
        "code": "additive-manufacturing",
        "earlier": 0,
        "later": 2,
        "change": 2,
    }
    assert data["rising_process_types"][0]["code"] == "additive-manufacturing"
    assert {"type": "sme", "n": 3} in data["organisation_types"]
    assert any(
        r["term"] == "printed" and r["later"] == 3 for r in data["growing_terms"]
    )
    assert {
        "month": date(2026, 3, 1),
        "product_type": "medical-device",
        "n": 2,
    } in data["per_product_month"]


def test_pages_and_csv_exports(dataset: list[Enquiry], officer: User) -> None:
    client = Client()
    client.force_login(officer)
    for section in ("service", "model", "horizon"):
        page = client.get(
            f"/staff/insight/?section={section}&from=2026-03-01&to=2026-04-30"
        )
        assert page.status_code == 200
    csv = client.get(
        "/staff/insight/?section=service&from=2026-03-01&to=2026-04-30&export=weeks"
    )
    assert csv["Content-Type"] == "text/csv"
    assert csv.content.decode().splitlines() == [
        "week,received,answered",
        "2026-03-02,3,1",
        "2026-03-09,0,1",
        "2026-04-06,0,1",
    ]


def test_insight_is_for_managers_only(specialist: User) -> None:
    client = Client()
    client.force_login(specialist)
    assert client.get("/staff/insight/").status_code == 403


def test_numpy_working_days_agree_with_the_service_clock() -> None:
    from enquiries.workdays import working_days_between

    pairs = [
        (date(2026, 1, d), date(2026, m, 15))
        for d in range(1, 28, 3)
        for m in (2, 4, 6)
    ]
    assert list(insight.working_days([a for a, _ in pairs], [b for _, b in pairs])) == [
        working_days_between(a, b) for a, b in pairs
    ]


def test_each_dashboard_has_charts_with_a_text_alternative(
    dataset: list[Enquiry], officer: User
) -> None:
    client = Client()
    client.force_login(officer)
    for section in ("service", "model", "horizon"):
        body = client.get(
            f"/staff/insight/?section={section}&from=2026-03-01&to=2026-04-30"
        ).content.decode()
        assert '<svg role="img"' in body, section
        assert "the same figures are in the table below" in body
        assert "<table" in body
