"""Insight: service performance, model quality and horizon scanning.

Aggregates run in the database; working days are counted with numpy's busday_count
over England and Wales bank holidays, so a quarter of enquiries costs milliseconds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from enquiries import taxonomy
from enquiries.models import CLOSED_STATES, Enquiry, overdue_q
from enquiries.workdays import _bank_holidays

from .models import Routing, Triage

_STOP = """
a an and are as at be been but by can could do does for from had has have how i if in
into is it its may might more most must need not of on or our over product products
question questions regulatory should so such than that the their them then there these
they this those to under use used using was we were what when which while who will with
would you your us any also about help please thank thanks
"""
STOPWORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive
    team: int | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.start, time.min, zone)
        return start, datetime.combine(self.end + timedelta(days=1), time.min, zone)

    @property
    def middle(self) -> datetime:
        start, end = self.bounds()
        return start + (end - start) / 2

    def enquiries(self) -> QuerySet[Enquiry]:
        start, end = self.bounds()
        qs = Enquiry.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        if self.team:
            qs = qs.filter(routings__team_id=self.team)
        return qs

    def triages(self) -> QuerySet[Triage]:
        start, end = self.bounds()
        qs = Triage.objects.filter(
            enquiry__submitted_at__gte=start, enquiry__submitted_at__lt=end
        ).exclude(product_type="")
        if self.team:
            qs = qs.filter(enquiry__routings__team_id=self.team)
        return qs


def working_days(starts: list[date], ends: list[date]) -> np.ndarray:
    """Working days after each start up to its end, as the service clock counts."""
    if not starts:
        return np.zeros(0)
    years = {y for d in starts + ends for y in (d.year, d.year + 1)}
    holidays = sorted(h for y in years for h in _bank_holidays(y))
    one = np.timedelta64(1, "D")  # after the start, up to and including the end
    return np.busday_count(
        np.array(starts, dtype="datetime64[D]") + one,
        np.array(ends, dtype="datetime64[D]") + one,
        holidays=np.array(holidays, dtype="datetime64[D]"),
    )


def service(window: Window) -> dict[str, Any]:
    enquiries = window.enquiries()
    received = dict(
        enquiries.annotate(week=TruncWeek("submitted_at"))
        .values_list("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    answered_rows = list(
        enquiries.annotate(first_reply=Min("replies__sent_at"))
        .filter(first_reply__isnull=False)
        .values_list("submitted_at", "first_reply")
    )
    answered: Counter[date] = Counter()
    for _, first in answered_rows:
        local = timezone.localtime(first).date()
        answered[local - timedelta(days=local.weekday())] += 1
    days = working_days(
        [timezone.localtime(s).date() for s, _ in answered_rows],
        [timezone.localtime(f).date() for _, f in answered_rows],
    )
    target = settings.RESPONSE_TARGET_WORKING_DAYS
    weeks = sorted(
        {w.date() if hasattr(w, "date") else w for w in received} | set(answered)
    )
    received_by_week = {
        (w.date() if hasattr(w, "date") else w): n for w, n in received.items()
    }
    open_now = Enquiry.objects.exclude(status__in=CLOSED_STATES)
    if window.team:
        open_now = open_now.filter(routings__team_id=window.team)
    per_team = (
        Routing.objects.filter(enquiry__in=open_now)
        .values_list("team__name")
        .annotate(
            backlog=Count("enquiry", distinct=True),
            overdue=Count("enquiry", filter=overdue_q("enquiry__"), distinct=True),
        )
        .order_by("team__name")
    )
    per_person = (
        open_now.filter(assigned_to__isnull=False)
        .values_list("assigned_to__username")
        .annotate(n=Count("id"))
        .order_by("-n", "assigned_to__username")
    )
    return {
        "weeks": [
            {
                "week": w,
                "received": received_by_week.get(w, 0),
                "answered": answered.get(w, 0),
            }
            for w in weeks
        ],
        "answered": len(answered_rows),
        "median_days": float(np.median(days)) if len(days) else None,
        "p90_days": float(np.percentile(days, 90)) if len(days) else None,
        "within_target": float(np.mean(days <= target)) if len(days) else None,
        "teams": [{"team": t, "backlog": b, "overdue": o} for t, b, o in per_team],
        "people": [{"person": p, "open": n} for p, n in per_person],
    }


def model_quality(window: Window) -> dict[str, Any]:
    triages = window.triages()
    totals = triages.aggregate(
        total=Count("id"),
        auto=Count("id", filter=Q(needs_review=False)),
        confirmed=Count("id", filter=Q(labels_confirmed_at__isnull=False)),
    )
    confirmed = triages.filter(labels_confirmed_at__isnull=False)
    per_class = {
        code: (n, agree)
        for code, n, agree in confirmed.values_list("product_type")
        .annotate(
            n=Count("id"),
            agree=Count("id", filter=Q(final_product_type=F("product_type"))),
        )
        .values_list("product_type", "n", "agree")
    }
    confusion = (
        confirmed.exclude(final_product_type=F("product_type"))
        .values_list("product_type", "final_product_type")
        .annotate(n=Count("id"))
        .order_by("product_type", "final_product_type")
    )
    total = totals["total"]
    return {
        "classified": total,
        "auto_accepted": totals["auto"] / total if total else None,
        "confirmed": totals["confirmed"],
        "by_class": [
            {
                "code": code,
                "confirmed": per_class.get(code, (0, 0))[0],
                "agreement": per_class[code][1] / per_class[code][0]
                if code in per_class
                else None,
            }
            for code in taxonomy.PRODUCT_TYPES
        ],
        "confusion": [{"predicted": p, "final": f, "n": n} for p, f, n in confusion],
    }


def _change(key: str, earlier: int, later: int, name: str) -> dict[str, Any]:
    return {name: key, "earlier": earlier, "later": later, "change": later - earlier}


def _by_change(row: dict[str, Any]) -> tuple[int, str]:
    return (-int(row["change"]), str(row.get("term", row.get("code", ""))))


def _has_process(code: str) -> Q:
    """JSON containment on PostgreSQL (fast); a text match elsewhere."""
    if connection.vendor == "postgresql":
        return Q(process_types__contains=[code])
    return Q(process_types__icontains=f'"{code}"')


TERM_SAMPLE = 5000  # titles per half-period for the growing terms


def horizon(window: Window) -> dict[str, Any]:
    enquiries = window.enquiries()
    triages = window.triages()
    middle = window.middle
    per_product = (
        triages.annotate(month=TruncMonth("enquiry__submitted_at"))
        .values_list("month", "product_type")
        .annotate(n=Count("id"))
        .order_by("month", "product_type")
    )
    counts = triages.aggregate(
        **{
            f"{half}_{i}": Count(
                "id",
                filter=_has_process(code)
                & (
                    Q(enquiry__submitted_at__gte=middle)
                    if half == "later"
                    else Q(enquiry__submitted_at__lt=middle)
                ),
            )
            for i, code in enumerate(taxonomy.PROCESS_TYPES)
            for half in ("earlier", "later")
        }
    )
    rising = sorted(
        (
            _change(code, counts[f"earlier_{i}"], counts[f"later_{i}"], "code")
            for i, code in enumerate(taxonomy.PROCESS_TYPES)
        ),
        key=_by_change,
    )
    words: dict[str, Counter[str]] = {}
    for half, condition in (
        ("earlier", Q(submitted_at__lt=middle)),
        ("later", Q(submitted_at__gte=middle)),
    ):
        titles = (
            enquiries.filter(condition)
            .order_by("-submitted_at")
            .values_list("title", flat=True)[:TERM_SAMPLE]
        )
        words[half] = Counter(
            w
            for title in titles
            for w in set(re.findall(r"[a-z][a-z\-]{3,}", title.lower()))
            if w not in STOPWORDS
        )
    growing = sorted(
        (
            _change(t, words["earlier"][t], n, "term")
            for t, n in words["later"].items()
            if n >= 2
        ),
        key=_by_change,
    )[:15]
    organisations = (
        enquiries.values_list("organisation_type")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return {
        "per_product_month": [
            {"month": m.date() if hasattr(m, "date") else m, "product_type": p, "n": n}
            for m, p, n in per_product
        ],
        "rising_process_types": rising,
        "organisation_types": [{"type": t, "n": n} for t, n in organisations],
        "growing_terms": growing,
    }
