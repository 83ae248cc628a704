"""Classification, flagging, sweeping and training: the business rules of triage."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from casestudies.models import CaseStudy
from enquiries import taxonomy
from enquiries.models import Enquiry, Event, Reply, hash_token, overdue_q
from enquiries.workdays import add_working_days, working_days_between

from . import classifier
from .models import (
    ApiToken,
    ClassifierVersion,
    RelevanceFeedback,
    Routing,
    RoutingRule,
    Team,
    Triage,
)

if TYPE_CHECKING:
    from django.contrib.postgres.search import SearchVector

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent / "training"
SYSTEM = "classifier"


def example_of(enquiry: Enquiry) -> classifier.Example:
    return classifier.Example(
        title=enquiry.title,
        description=enquiry.description,
        organisation_type=enquiry.organisation_type,
        development_stage=enquiry.development_stage,
    )


def active_model(version: ClassifierVersion | None = None) -> classifier.Model:
    """The live model, loaded once per process and per version (digest-checked)."""
    version = version or ClassifierVersion.objects.active()
    if version is None:
        raise classifier.ModelUnavailable("no classifier has been trained yet")
    path = Path(settings.CLASSIFIER_DIR) / version.path
    return classifier.load(str(path), version.sha256)


def with_overrides(
    prediction: classifier.Prediction, version: ClassifierVersion | None
) -> classifier.Prediction:
    """Apply the per-class review thresholds staff set on the active model."""
    threshold = (version.review_overrides if version else {}).get(
        prediction.product_type
    )
    if threshold is None:
        return prediction
    needs_review = prediction.product_confidence < float(threshold)
    return dataclasses.replace(prediction, needs_review=needs_review)


def classify_enquiry(*, enquiry_id: int) -> Triage | None:
    """Classify one pending enquiry; a no-op if it was already dealt with."""
    version = ClassifierVersion.objects.active()  # one look-up: model and overrides
    try:
        model = active_model(version)
    except classifier.ModelUnavailable as exc:
        log.error("classification of enquiry %s impossible: %s", enquiry_id, exc)
        flag_for_manual_triage(enquiry_id=enquiry_id, reason=str(exc))
        return None
    with transaction.atomic():
        enquiry = Enquiry.objects.select_for_update().filter(pk=enquiry_id).first()
        if enquiry is None or (
            enquiry.classification_state != Enquiry.ClassificationState.PENDING
        ):
            return None  # already classified or flagged: redelivery is harmless
        prediction = with_overrides(
            classifier.predict(model, example_of(enquiry)), version
        )
        text = f"{enquiry.title}\n{enquiry.description}"
        suggestions = [s.slug for s in CaseStudy.objects.suggest_for(text, limit=5)]
        triage, _ = Triage.objects.update_or_create(
            enquiry=enquiry,
            defaults={
                "product_type": prediction.product_type,
                "product_confidence": prediction.product_confidence,
                "product_probabilities": prediction.product_probabilities,
                "process_types": list(prediction.process_types),
                "process_confidences": prediction.process_confidences,
                "needs_review": prediction.needs_review,
                "explanation": prediction.explanation,
                "model_version": prediction.model_version,
                "case_studies": suggestions,
                "classified_at": timezone.now(),
            },
        )
        enquiry.classification_state = Enquiry.ClassificationState.CLASSIFIED
        enquiry.classify_error = ""
        enquiry.save(update_fields=["classification_state", "classify_error"])
        if not prediction.needs_review and not enquiry.routings.exists():
            apply_routing_rules(
                enquiry=enquiry,
                actor=None,
                product_type=prediction.product_type,
                process_types=list(prediction.process_types),
            )
        _event(enquiry, None, "classified", new={
            "product_type": prediction.product_type,
            "process_types": list(prediction.process_types),
            "needs_review": prediction.needs_review,
            "model_version": prediction.model_version,
        })  # fmt: skip
    return triage


def flag_for_manual_triage(*, enquiry_id: int, reason: str) -> bool:
    """Stop automatic attempts; the enquiry shows in the staff queue as manual."""
    with transaction.atomic():
        enquiry = Enquiry.objects.select_for_update().filter(pk=enquiry_id).first()
        if enquiry is None or (
            enquiry.classification_state != Enquiry.ClassificationState.PENDING
        ):
            return False
        enquiry.classification_state = Enquiry.ClassificationState.MANUAL
        enquiry.classify_error = reason[:300]
        enquiry.save(update_fields=["classification_state", "classify_error"])
        Event.objects.create(
            enquiry=enquiry,
            system_actor=SYSTEM,
            action="flagged-for-manual-triage",
            note=reason[:1000],
        )
    return True


def claim_stale_unclassified(*, limit: int = 200) -> tuple[list[int], list[int]]:
    """Claim enquiries left pending past the timeout: (to retry, flagged manual)."""
    older_than = timedelta(seconds=settings.CLASSIFY_SWEEP_AFTER_SECONDS)
    stale = list(
        Enquiry.objects.stale_unclassified(older_than=older_than)
        .order_by("submitted_at")
        .values_list("pk", "classify_attempts")[:limit]
    )
    retry, flagged = [], []
    cutoff = timezone.now() - older_than
    for pk, attempts in stale:
        if attempts + 1 >= settings.CLASSIFY_MAX_ATTEMPTS:
            reason = f"not classified after {attempts + 1} attempts"
            if flag_for_manual_triage(enquiry_id=pk, reason=reason):
                flagged.append(pk)
            continue
        claimed = (
            Enquiry.objects.filter(
                pk=pk, classification_state=Enquiry.ClassificationState.PENDING
            )
            .filter(
                Q(classify_enqueued_at__isnull=True)
                | Q(classify_enqueued_at__lt=cutoff)
            )
            .update(
                classify_attempts=F("classify_attempts") + 1,
                classify_enqueued_at=timezone.now(),
            )
        )
        if claimed:  # another sweeper did not get there first
            retry.append(pk)
    return retry, flagged


def health() -> dict[str, object]:
    """Database, broker, the oldest unclassified enquiry and the active model."""
    from config.celery import app

    report: dict[str, object] = {}
    try:
        oldest = (
            Enquiry.objects.unclassified()
            .order_by("submitted_at")
            .values_list("submitted_at", flat=True)
            .first()
        )
        version = ClassifierVersion.objects.active()
        report["database"] = "ok"
        report["oldest_unclassified_seconds"] = (
            round((timezone.now() - oldest).total_seconds()) if oldest else 0
        )
        report["manual_triage"] = Enquiry.objects.filter(
            classification_state=Enquiry.ClassificationState.MANUAL
        ).count()
        report["model_version"] = version.version if version else None
    except Exception as exc:  # the point is to report, not to raise
        report["database"] = f"error: {type(exc).__name__}"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        report["broker"] = "ok"
    except Exception as exc:
        report["broker"] = f"error: {type(exc).__name__}"
    report["ok"] = report["database"] == "ok" and report["broker"] == "ok"
    return report


def mark_enqueue_failed(*, enquiry_id: int) -> None:
    """The broker refused the message: let the next sweep pick the enquiry up."""
    Enquiry.objects.filter(pk=enquiry_id).update(classify_enqueued_at=None)


def read_corpus(directory: Path = CORPUS_DIR) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def train_classifier(
    *, activate: bool = True, corpus: Path = CORPUS_DIR
) -> ClassifierVersion:
    """Train on the corpus plus staff-confirmed labels; store, record, activate."""
    rows = read_corpus(corpus)
    examples = [
        classifier.Example(
            str(r["title"]), str(r["description"]),
            str(r.get("organisation_type", "")), str(r.get("development_stage", "")),
        )
        for r in rows
    ]  # fmt: skip
    products = [str(r["product_type"]) for r in rows]
    processes: list[list[str]] = [list(r["process_types"]) for r in rows]  # type: ignore[call-overload]
    confirmed = Triage.objects.filter(
        labels_confirmed_at__isnull=False, enquiry__status=Enquiry.Status.CLOSED
    ).select_related("enquiry")  # staff-final labels of closed enquiries
    for triage in confirmed:
        examples.append(example_of(triage.enquiry))
        products.append(triage.final_product_type)
        processes.append(list(triage.final_process_types))
    model = classifier.train(
        examples,
        products,
        processes,
        product_codes=taxonomy.PRODUCT_TYPES,
        process_codes=taxonomy.PROCESS_TYPES,
    )
    path, digest = classifier.save(model, Path(settings.CLASSIFIER_DIR))
    counts = {
        "corpus": len(rows),
        "staff_confirmed": len(examples) - len(rows),
        "product_types": dict(Counter(products)),
        "process_types": dict(Counter(p for ps in processes for p in ps)),
    }
    with transaction.atomic():
        version = ClassifierVersion.objects.create(
            version=model.version,
            path=path.name,
            sha256=digest,
            metrics=model.metrics,
            training_counts=counts,
        )
        if activate:
            activate_classifier(version=version)
    return version


def activate_classifier(*, version: ClassifierVersion) -> None:
    with transaction.atomic():
        ClassifierVersion.objects.filter(is_active=True).update(is_active=False)
        version.is_active = True
        version.save(update_fields=["is_active"])


class BadLine(ValueError):
    """A malformed input line; the message names it."""


def parse_enquiry_line(
    line: str, *, number: int
) -> tuple[str, classifier.Example, dict[str, object]]:
    """One line of enquiries JSONL: (id, example, gold labels or {})."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"line {number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise BadLine(f"line {number}: expected a JSON object")
    for field in ("title", "description"):
        if not isinstance(row.get(field), str):
            raise BadLine(f"line {number}: field '{field}' is missing or not text")
    ident = row.get("id", str(number))
    if not isinstance(ident, str | int):
        raise BadLine(f"line {number}: field 'id' must be text or a number")
    gold = row.get("gold") or {}
    if not isinstance(gold, dict):
        raise BadLine(f"line {number}: field 'gold' must be an object")
    example = classifier.Example(
        title=row["title"],
        description=row["description"],
        organisation_type=str(row.get("organisation_type") or ""),
        development_stage=str(row.get("development_stage") or ""),
    )
    return str(ident), example, gold


def read_enquiry_lines(
    lines: list[str],
) -> list[tuple[str, classifier.Example, dict[str, object]]]:
    return [
        parse_enquiry_line(line, number=n)
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]


OPEN_STATES = (
    Enquiry.Status.NEW,
    Enquiry.Status.IN_TRIAGE,
    Enquiry.Status.ROUTED,
    Enquiry.Status.AWAITING_ENQUIRER,
    Enquiry.Status.RESPONDED,
)


class ReplyError(ValueError):
    """A reply that cannot be sent (empty, or the enquiry is closed)."""


REPLY_MAX = 20_000
CASE_STUDIES_MAX = 10
NOTE_MAX = 5000


def reply_to_enquiry(
    *, enquiry: Enquiry, author: User | None, body: str, case_study_slugs: list[str]
) -> Reply:
    """Send a reply with chosen case studies as links; record them as feedback."""
    if not body.strip():
        raise ReplyError("Write a reply before sending it")
    if len(body) > REPLY_MAX:
        raise ReplyError(f"Reply must be {REPLY_MAX:,} characters or fewer")
    if enquiry.status not in OPEN_STATES:
        raise ReplyError("This enquiry is closed; reopen it before replying")
    if len(case_study_slugs) > CASE_STUDIES_MAX:
        raise ReplyError(f"Attach at most {CASE_STUDIES_MAX} case studies")
    studies = list(CaseStudy.objects.published().filter(slug__in=case_study_slugs))
    if missing := sorted(set(case_study_slugs) - {s.slug for s in studies}):
        raise ReplyError(
            f"Not a published case study: {', '.join(missing)[:200]}. Untick it, or "
            "publish it first"
        )
    suggested = enquiry.triage.case_studies if hasattr(enquiry, "triage") else []
    links = "".join(
        f"\n- {s.title}: {settings.SITE_URL}{s.get_absolute_url()}" for s in studies
    )
    text = body.strip() + (f"\n\nCase studies that may help:{links}" if studies else "")
    with transaction.atomic():
        reply = Reply.objects.create(enquiry=enquiry, body=text, sent_by=author)
        for study in studies:
            RelevanceFeedback.objects.get_or_create(
                enquiry=enquiry,
                case_study=study,
                defaults={
                    "attached_by": author,
                    "suggested_rank": suggested.index(study.slug) + 1
                    if study.slug in suggested
                    else None,
                },
            )
        old = enquiry.status
        if old != Enquiry.Status.RESPONDED:
            change_status(enquiry=enquiry, actor=author, to=Enquiry.Status.RESPONDED)
        Event.objects.create(
            enquiry=enquiry,
            actor=author,
            action="replied",
            old={"status": old},
            new={"status": enquiry.status, "case_studies": [s.slug for s in studies]},
        )
        transaction.on_commit(
            partial(
                send_mail,
                subject=f"Reply to your enquiry {enquiry.reference}",
                message=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[enquiry.email],
                fail_silently=True,
            )
        )
    return reply


# --- Staff triage -------------------------------------------------------------

S = Enquiry.Status
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.IN_TRIAGE, S.ROUTED, S.AWAITING_ENQUIRER, S.RESPONDED, S.OUT_OF_SCOPE},
    S.IN_TRIAGE: {S.ROUTED, S.AWAITING_ENQUIRER, S.RESPONDED, S.OUT_OF_SCOPE, S.CLOSED},
    S.ROUTED: {S.IN_TRIAGE, S.AWAITING_ENQUIRER, S.RESPONDED, S.CLOSED},
    S.AWAITING_ENQUIRER: {S.IN_TRIAGE, S.ROUTED, S.RESPONDED, S.CLOSED},
    S.RESPONDED: {S.AWAITING_ENQUIRER, S.ROUTED, S.CLOSED},
    S.CLOSED: {S.IN_TRIAGE},
    S.OUT_OF_SCOPE: {S.IN_TRIAGE},
}


class TriageError(ValueError):
    """An action the rules do not allow; the message says why."""


def _event(
    enquiry: Enquiry,
    actor: User | None,
    action: str,
    old: object = None,
    new: object = None,
    note: str = "",
) -> None:
    Event.objects.create(
        enquiry=enquiry,
        actor=actor,
        system_actor="" if actor else SYSTEM,
        action=action,
        old=old,
        new=new,
        note=note,
    )


@transaction.atomic
def change_status(*, enquiry: Enquiry, actor: User | None, to: str) -> Enquiry:
    """Guarded status change; the service clock stops while awaiting the enquirer."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if to not in TRANSITIONS.get(locked.status, set()):
        raise TriageError(
            f"An enquiry that is {locked.get_status_display().lower()} cannot move to "
            f"{dict(Enquiry.Status.choices).get(to, to).lower()}"
        )
    old = locked.status
    today = timezone.localdate()
    if to == S.AWAITING_ENQUIRER:
        locked.clock_paused_at = today
    elif locked.clock_paused_at is not None:
        paused = working_days_between(locked.clock_paused_at, today)
        locked.response_due = add_working_days(locked.response_due, paused)
        locked.clock_paused_at = None
    locked.status = to
    locked.save(
        update_fields=["status", "clock_paused_at", "response_due", "updated_at"]
    )
    _event(locked, actor, "status", {"status": old}, {"status": to})
    # keep the caller's copy current, so a following action sees the new state
    enquiry.status, enquiry.clock_paused_at = locked.status, locked.clock_paused_at
    enquiry.response_due = locked.response_due
    return locked


def _ensure_triage(enquiry: Enquiry) -> Triage:
    triage = Triage.objects.filter(enquiry=enquiry).first()
    if triage is None:  # flagged for manual triage: no model output to keep
        triage = Triage.objects.create(
            enquiry=enquiry, product_type="", product_confidence=0.0,
            model_version="", needs_review=True, classified_at=timezone.now(),
        )  # fmt: skip
    return triage


@transaction.atomic
def confirm_labels(
    *, enquiry: Enquiry, actor: User | None, product_type: str | None = None,
    process_types: list[str] | None = None,
) -> Triage:  # fmt: skip
    """Accept the model's labels (no arguments) or correct them; provenance kept."""
    triage = _ensure_triage(enquiry)
    accepting = product_type is None and process_types is None
    if accepting and not triage.product_type:
        raise TriageError("There is no model prediction to accept; correct the labels")
    current_product = triage.final_product_type or triage.product_type
    current_processes = (
        triage.final_process_types
        if triage.labels_confirmed_at
        else triage.process_types
    )
    product = current_product if product_type is None else product_type
    processes = list(current_processes if process_types is None else process_types)
    if product not in taxonomy.PRODUCT_TYPES:
        raise TriageError("Choose a product type")
    if any(p not in taxonomy.PROCESS_TYPES for p in processes):
        raise TriageError("Unknown process type")
    old = {"product_type": current_product, "process_types": list(current_processes),
           "by": "staff" if triage.labels_confirmed_at else "model"}  # fmt: skip
    triage.final_product_type, triage.final_process_types = product, processes
    triage.labels_confirmed_by, triage.labels_confirmed_at = actor, timezone.now()
    triage.save()
    new = {"product_type": product, "process_types": processes}
    _event(enquiry, actor, "accepted" if accepting else "corrected", old, new)
    if not enquiry.routings.exists():
        apply_routing_rules(enquiry=enquiry, actor=actor, product_type=product,
                            process_types=processes)  # fmt: skip
    return triage


def teams_for(*, product_type: str, process_types: list[str]) -> list[Team]:
    """Teams from the rules: the best-precedence product rule plus process rules."""
    rules = [r for r in RoutingRule.objects.filter(active=True).select_related("team")
             if r.matches(product_type, process_types)]  # fmt: skip
    if not rules:
        return []
    best = min(r.precedence for r in rules)
    chosen = [r.team for r in rules if r.precedence == best or r.process_type]
    return list(dict.fromkeys(chosen))


def apply_routing_rules(
    *, enquiry: Enquiry, actor: User | None, product_type: str, process_types: list[str]
) -> list[Team]:
    teams = teams_for(product_type=product_type, process_types=process_types)
    if teams:
        route_enquiry(enquiry=enquiry, actor=actor, teams=teams)
    return teams


@transaction.atomic
def route_enquiry(
    *, enquiry: Enquiry, actor: User | None, teams: list[Team]
) -> Enquiry:
    """Route to one or more teams (replacing the previous routing)."""
    if not teams:
        raise TriageError("Choose at least one team")
    old = sorted(enquiry.routings.values_list("team__slug", flat=True))
    enquiry.routings.exclude(team__in=teams).delete()
    for team in teams:
        Routing.objects.get_or_create(
            enquiry=enquiry, team=team, defaults={"routed_by": actor}
        )
    new = sorted(t.slug for t in teams)
    _event(enquiry, actor, "routed", {"teams": old}, {"teams": new})
    if enquiry.status in (S.NEW, S.IN_TRIAGE):
        change_status(enquiry=enquiry, actor=actor, to=S.ROUTED)
    return enquiry


@transaction.atomic
def assign_enquiry(
    *, enquiry: Enquiry, actor: User | None, assignee: User | None
) -> Enquiry:
    old = enquiry.assigned_to.username if enquiry.assigned_to else None
    enquiry.assigned_to = assignee
    enquiry.save(update_fields=["assigned_to", "updated_at"])
    _event(
        enquiry,
        actor,
        "assigned",
        {"to": old},
        {"to": assignee.username if assignee else None},
    )
    return enquiry


def record_download(*, enquiry: Enquiry, actor: User | None, name: str) -> None:
    _event(enquiry, actor, "attachment-downloaded", new={"file": name})


def add_note(*, enquiry: Enquiry, actor: User | None, text: str) -> None:
    if not text.strip():
        raise TriageError("Write a note before saving it")
    if len(text.strip()) > NOTE_MAX:
        raise TriageError(f"Note must be {NOTE_MAX:,} characters or fewer")
    _event(enquiry, actor, "note", note=text.strip())


MAX_ID = 2**31 - 1  # auth_user's integer key; our own (bigint) ids stay far below


def parse_id(raw: str) -> int | None:
    """A primary key from a query or form value, or None if it cannot be one.

    Only ASCII digits from 1 to MAX_ID: `str.isdigit()` also accepts '²' (which
    int() refuses) and other scripts' digits, and a huge number overflows the
    database."""
    digits = raw.lstrip("0")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_ID)):
        return None
    value = int(digits)
    return value if value <= MAX_ID else None


YES = ("yes",)
QUEUE_CHOICES: dict[str, tuple[str, Sequence[str]]] = {
    "status": ("status", Enquiry.Status.values),
    "product_type": ("product type", taxonomy.PRODUCT_TYPES),
    "process_type": ("process type", taxonomy.PROCESS_TYPES),
    "organisation_type": ("organisation type", taxonomy.ORGANISATION_TYPES),
    "needs_review": ("needs_review value", YES),
    "overdue": ("overdue value", YES),
}


def queue_filter_problems(g: Mapping[str, str]) -> dict[str, str]:
    """Each queue filter whose value cannot be used, with a message that says what
    it accepts. An empty value means "any" and is never a problem."""
    problems = {}
    for name, (noun, allowed) in QUEUE_CHOICES.items():
        value = g.get(name, "")
        if value and value not in allowed:
            problems[name] = (
                f"Unknown {noun} {value[:40]!r}; use one of: {', '.join(allowed)}"
            )
    known: dict[str, tuple[str, QuerySet[Any], str]] = {
        "team": ("a team id", Team.objects.all(), "No team"),
        "assignee": ("a staff member's user id", User.objects.filter(is_staff=True),
                     "No staff member"),
    }  # fmt: skip
    for name, (what, rows, nobody) in known.items():
        value = g.get(name, "")
        pk = parse_id(value)
        if value and pk is None:
            problems[name] = f"{name} must be {what}, a whole number like 3"
        elif pk is not None and not rows.filter(pk=pk).exists():
            problems[name] = f"{nobody} has the id {pk}"
    return problems


def needs_review_q() -> Q:
    """Waiting for a person (the Needs review tab and filter): the model was unsure
    or could not classify, and staff have not confirmed labels since."""
    return (
        Q(triage__needs_review=True)
        | Q(classification_state=Enquiry.ClassificationState.MANUAL)
    ) & Q(triage__labels_confirmed_at__isnull=True)


def filter_queue(
    enquiries: QuerySet[Enquiry], g: Mapping[str, str]
) -> QuerySet[Enquiry]:
    """The queue filters; values that queue_filter_problems reports are ignored."""
    if g.get("status") in Enquiry.Status.values:
        enquiries = enquiries.filter(status=g["status"])
    if g.get("product_type") in taxonomy.PRODUCT_TYPES:
        code = g["product_type"]
        enquiries = enquiries.filter(
            Q(triage__final_product_type=code)
            | Q(triage__final_product_type="", triage__product_type=code)
        )
    if g.get("process_type") in taxonomy.PROCESS_TYPES:
        quoted = f'"{g["process_type"]}"'
        enquiries = enquiries.filter(
            Q(
                triage__labels_confirmed_at__isnull=False,
                triage__final_process_types__icontains=quoted,
            )
            | Q(
                triage__labels_confirmed_at__isnull=True,
                triage__process_types__icontains=quoted,
            )
        )
    if g.get("organisation_type") in taxonomy.ORGANISATION_TYPES:
        enquiries = enquiries.filter(organisation_type=g["organisation_type"])
    if team := parse_id(g.get("team", "")):
        # a join on routings: one row per enquiry however many teams it has
        enquiries = enquiries.filter(routings__team_id=team).distinct()
    if assignee := parse_id(g.get("assignee", "")):
        enquiries = enquiries.filter(assigned_to_id=assignee)
    if g.get("needs_review") == "yes":
        enquiries = enquiries.filter(needs_review_q())
    if g.get("overdue") == "yes":
        enquiries = enquiries.filter(overdue_q())
    query = g.get("q", "").strip()[:200]
    if query:
        enquiries = search_enquiries(enquiries, query)
    return enquiries


def _search_vector() -> SearchVector:
    """Title and description in English: the expression migration 0005 indexes."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("title", "description", config="english")


def search_enquiries(enquiries: QuerySet[Enquiry], query: str) -> QuerySet[Enquiry]:
    """Full-text search over title and description (PostgreSQL; every word
    elsewhere), or a reference, an email address or an organisation name."""
    direct = _direct_match(query)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        terms = SearchQuery(query, search_type="websearch", config="english")
        found = enquiries.annotate(search=_search_vector()).filter(search=terms)
        # An OR of the full-text match and the direct ones in one query misleads the
        # planner into scanning by date and computing every row's vector. So the
        # direct matches are looked up first, from their own indexes; without any,
        # the query is the full-text one alone.
        direct_rows = Enquiry.objects.filter(direct).order_by()  # unordered: BitmapOr
        hits = list(direct_rows.values_list("pk", flat=True)[:200])
        if not hits:
            return found
        also = list(found.order_by().values_list("pk", flat=True)[:SEARCH_CAP])
        return enquiries.filter(pk__in=hits + also)
    words = Q()
    for word in query.split()[:8]:
        words &= Q(title__icontains=word) | Q(description__icontains=word)
    return enquiries.filter(words | direct)


SEARCH_CAP = 1000  # full-text matches kept beside direct ones (a reference, a name)
REFERENCE = re.compile(r"(?:INN-)?(?:(\d{4})-)?0*(\d{1,12})", re.IGNORECASE)


def _direct_match(query: str) -> Q:
    """The start of an organisation name; a whole email address; a reference or
    its number ('INN-2026-000005', '2026-000005', '000005' or '5'). Each is
    answered from an index on PostgreSQL (triage migration 0007; the number is
    the primary key, as references are made from it)."""
    match = Q(organisation_name__istartswith=query)
    if "@" in query:
        match |= Q(email__iexact=query)
    if (found := REFERENCE.fullmatch(query.strip())) and (pk := parse_id(found[2])):
        year = Q(reference__startswith=f"INN-{found[1]}-") if found[1] else Q()
        match |= Q(pk=pk) & year
    return match


def model_quality_rows(version: ClassifierVersion | None) -> list[dict[str, object]]:
    """Per product type: precision against staff-final labels, auto-accepted share."""
    thresholds: dict[str, float] = {}
    if version is not None:
        try:
            thresholds = dict(active_model(version).review_thresholds)
        except classifier.ModelUnavailable:
            thresholds = {}
        thresholds.update(version.review_overrides)
    rows = []
    for code in taxonomy.PRODUCT_TYPES:
        staff = Q(labels_confirmed_at__isnull=False)
        n = Triage.objects.filter(product_type=code).aggregate(
            total=Count("id"),
            confirmed=Count("id", filter=staff),
            right=Count("id", filter=staff & Q(final_product_type=code)),
            auto=Count("id", filter=Q(needs_review=False)),
        )
        total, confirmed = n["total"], n["confirmed"]
        rows.append(
            {
                "code": code,
                "label": taxonomy.label("product_types", code),
                "predicted": total,
                "confirmed": confirmed,
                "precision": n["right"] / confirmed if confirmed else None,
                "auto_accepted": n["auto"] / total if total else None,
                "threshold": thresholds.get(code),
                "overridden": code in (version.review_overrides if version else {}),
            }
        )
    return rows


def retrain_if_better(
    *, corpus: Path = CORPUS_DIR, tolerance: float = 0.005
) -> ClassifierVersion:
    """Train a candidate; activate it only if it is as good on held-out folds."""
    candidate = train_classifier(activate=False, corpus=corpus)
    current = ClassifierVersion.objects.active()
    keys = ("cv_product_accuracy", "cv_process_micro_f1")
    better = current is None or all(
        float(candidate.metrics.get(k, 0))
        >= float(current.metrics.get(k, 0)) - tolerance
        for k in keys
    )
    if better:
        activate_classifier(version=candidate)
    log.info(
        "candidate %s %s", candidate.version, "activated" if better else "kept inactive"
    )
    return candidate


def key_terms(text: str, *, limit: int = 8) -> list[str]:
    """The most distinctive single words of a text, by the active model's IDF."""
    try:
        words = active_model().features.words
    except classifier.ModelUnavailable:
        return []
    row = words.transform([text])
    names = words.get_feature_names_out()
    order = np.argsort(-row.data)
    terms = []
    for i in order:
        term = str(names[row.indices[i]])
        if " " not in term and len(term) > 3 and term.isalpha():
            terms.append(term)
        if len(terms) >= limit:
            break
    return terms


def similar_enquiries(
    *, enquiry: Enquiry, visible: QuerySet[Enquiry], limit: int = 3
) -> list[Enquiry]:
    """Answered enquiries most like this one, so advice stays consistent."""
    terms = key_terms(f"{enquiry.title}\n{enquiry.description}")
    if not terms:
        return []
    answered = visible.filter(
        status__in=[Enquiry.Status.RESPONDED, Enquiry.Status.CLOSED]
    ).exclude(pk=enquiry.pk)
    found: QuerySet[Enquiry]
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        vector = _search_vector()
        query = SearchQuery(
            " OR ".join(terms), search_type="websearch", config="english"
        )
        found = (
            answered.annotate(search=vector)
            .filter(search=query)
            .annotate(rank=SearchRank(vector, query))
            .order_by("-rank")[:limit]
        )
    else:
        condition = Q()
        for term in terms[:4]:
            condition |= Q(title__icontains=term) | Q(description__icontains=term)
        found = answered.filter(condition).order_by("-submitted_at")[:limit]
    similar = list(found.prefetch_related("replies"))
    for item in similar:  # how it was answered: the latest reply, if any
        replies = list(item.replies.all())
        item.latest_reply = replies[-1].body if replies else ""  # type: ignore[attr-defined]
    return similar


def create_api_token(*, user: User) -> str:
    """A new token for `user`; the key is returned once and stored only hashed."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=hash_token(key), prefix=key[:8])
    return key


def user_for_api_token(key: str) -> User | None:
    token = (
        ApiToken.objects.filter(key_hash=hash_token(key), revoked=False)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
