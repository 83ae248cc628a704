"""Classification, flagging, sweeping and training: the business rules of triage."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from casestudies.models import CaseStudy
from enquiries import taxonomy
from enquiries.models import Enquiry, Event, Reply

from . import classifier
from .models import ClassifierVersion, RelevanceFeedback, Triage

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


def active_model() -> classifier.Model:
    """The live model, loaded once per process and per version (digest-checked)."""
    version = ClassifierVersion.objects.active()
    if version is None:
        raise classifier.ModelUnavailable("no classifier has been trained yet")
    path = Path(settings.CLASSIFIER_DIR) / version.path
    return classifier.load(str(path), version.sha256)


def classify_enquiry(*, enquiry_id: int) -> Triage | None:
    """Classify one pending enquiry; a no-op if it was already dealt with."""
    try:
        model = active_model()
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
        prediction = classifier.predict(model, example_of(enquiry))
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
        Event.objects.create(
            enquiry=enquiry,
            system_actor=SYSTEM,
            action="classified",
            new={
                "product_type": prediction.product_type,
                "process_types": list(prediction.process_types),
                "needs_review": prediction.needs_review,
                "model_version": prediction.model_version,
            },
        )
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
    confirmed = Triage.objects.filter(labels_confirmed_at__isnull=False).select_related(
        "enquiry"
    )
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


def reply_to_enquiry(
    *, enquiry: Enquiry, author: User | None, body: str, case_study_slugs: list[str]
) -> Reply:
    """Send a reply with chosen case studies as links; record them as feedback."""
    if not body.strip():
        raise ReplyError("Write a reply before sending it")
    if enquiry.status not in OPEN_STATES:
        raise ReplyError("This enquiry is closed; reopen it before replying")
    studies = list(CaseStudy.objects.published().filter(slug__in=case_study_slugs))
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
        enquiry.status = Enquiry.Status.RESPONDED
        enquiry.save(update_fields=["status", "updated_at"])
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
