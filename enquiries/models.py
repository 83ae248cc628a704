from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import taxonomy


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TaxonomyTerm(models.Model):
    """Reference data mirrored from taxonomy.json; codes are fixed, labels editable."""

    class Kind(models.TextChoices):
        PRODUCT_TYPE = "product_types", "Product type"
        PROCESS_TYPE = "process_types", "Process type"
        ORGANISATION_TYPE = "organisation_types", "Organisation type"
        DEVELOPMENT_STAGE = "development_stages", "Development stage"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    code = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="unique_term_code"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class EnquiryQuerySet(models.QuerySet["Enquiry"]):
    def by_status_token(self, token: str) -> Enquiry | None:
        """The enquiry a status link points at, or None if wrong or expired."""
        if not token or len(token) > 128:
            return None
        return self.filter(
            status_token_hash=hash_token(token),
            status_token_expires_at__gt=timezone.now(),
        ).first()

    def visible_to(self, user: Any) -> EnquiryQuerySet:
        """Object-level access: all for triage roles, own teams for specialists."""
        if not getattr(user, "is_authenticated", False) or not user.is_staff:
            return self.none()
        if user.has_perm("enquiries.view_all_enquiries"):
            return self
        if user.has_perm("enquiries.view_team_enquiries"):
            return self.filter(routings__team__members=user).distinct()
        return self.none()

    def overdue(self) -> EnquiryQuerySet:
        return self.filter(overdue_q())

    def unclassified(self) -> EnquiryQuerySet:
        return self.filter(classification_state=Enquiry.ClassificationState.PENDING)

    def stale_unclassified(self, *, older_than: timedelta) -> EnquiryQuerySet:
        cutoff = timezone.now() - older_than
        return self.unclassified().filter(
            Q(classify_enqueued_at__isnull=True) | Q(classify_enqueued_at__lt=cutoff)
        )


class EnquiryStatus(models.TextChoices):
    NEW = "new", "New"
    IN_TRIAGE = "in-triage", "In triage"
    ROUTED = "routed", "Routed to a team"
    AWAITING_ENQUIRER = "awaiting-enquirer", "Waiting for your reply"
    RESPONDED = "responded", "Responded"
    CLOSED = "closed", "Closed"
    OUT_OF_SCOPE = "out-of-scope", "Out of scope"


CLOSED_STATES = (
    EnquiryStatus.RESPONDED,
    EnquiryStatus.CLOSED,
    EnquiryStatus.OUT_OF_SCOPE,
)


def overdue_q(prefix: str = "") -> Q:
    """Open, past its due date, and the clock not paused for the enquirer.

    `prefix` reaches the enquiry through a relation, e.g. "enquiry__".
    Enquiry.is_overdue is the same rule for one loaded row.
    """
    return Q(
        **{
            f"{prefix}response_due__lt": timezone.localdate(),
            f"{prefix}clock_paused_at__isnull": True,
        }
    ) & ~Q(**{f"{prefix}status__in": CLOSED_STATES})


class ClassificationState(models.TextChoices):
    PENDING = "pending", "Waiting for classification"
    CLASSIFIED = "classified", "Classified"
    MANUAL = "manual", "Flagged for manual triage"


class Enquiry(models.Model):
    Status = EnquiryStatus
    ClassificationState = ClassificationState

    reference = models.CharField(max_length=20, unique=True, editable=False)
    status_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status_token_expires_at = models.DateTimeField()

    organisation_name = models.CharField(max_length=200)
    organisation_type = models.CharField(
        max_length=32, choices=taxonomy.choices("organisation_types")
    )
    contact_name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    development_stage = models.CharField(
        max_length=32, choices=taxonomy.choices("development_stages")
    )
    title = models.CharField(max_length=150)
    description = models.TextField()
    product_type_guess = models.CharField(
        max_length=32, blank=True, choices=taxonomy.choices("product_types")
    )
    confidential = models.BooleanField(default=False)
    consent_given_at = models.DateTimeField()

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    response_due = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    # The row is its own outbox: classification state, attempts and last enqueue.
    classification_state = models.CharField(
        max_length=12,
        choices=ClassificationState.choices,
        default=ClassificationState.PENDING,
    )
    classify_attempts = models.PositiveSmallIntegerField(default=0)
    classify_enqueued_at = models.DateTimeField(null=True, blank=True)
    classify_error = models.CharField(max_length=300, blank=True)

    # Staff work: who has it, and the service clock (paused while awaiting enquirer).
    assigned_to = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clock_paused_at = models.DateField(null=True, blank=True)

    objects = EnquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name_plural = "enquiries"
        permissions = [
            ("view_all_enquiries", "Can see every enquiry"),
            ("view_team_enquiries", "Can see enquiries routed to own teams"),
            ("triage_enquiry", "Can accept, correct, route, assign and move enquiries"),
            ("erase_personal_data", "Can erase an enquirer's personal data"),
        ]
        indexes = [
            models.Index(fields=["submitted_at", "id"], name="enquiry_submitted_idx"),
            models.Index(fields=["status", "submitted_at"], name="enquiry_status_idx"),
            models.Index(fields=["response_due", "id"], name="enquiry_due_idx"),
            models.Index(
                fields=["classification_state", "classify_enqueued_at"],
                name="enquiry_outbox_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EnquiryStatus.values),
                name="enquiry_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(classification_state__in=ClassificationState.values),
                name="enquiry_classification_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(organisation_type__in=taxonomy.ORGANISATION_TYPES),
                name="enquiry_organisation_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(development_stage__in=taxonomy.DEVELOPMENT_STAGES),
                name="enquiry_development_stage_valid",
            ),
            models.CheckConstraint(
                condition=Q(product_type_guess__in=("", *taxonomy.PRODUCT_TYPES)),
                name="enquiry_product_guess_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def is_overdue(self) -> bool:
        """overdue_q() for one loaded row."""
        return (
            self.status not in CLOSED_STATES
            and self.clock_paused_at is None
            and self.response_due < timezone.localdate()
        )


class Attachment(models.Model):
    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="attachments"
    )
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class Reply(models.Model):
    """A response the office sent to the enquirer; shown on the status page."""

    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"Reply to {self.enquiry.reference} at {self.sent_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """The audit trail: every change to an enquiry, with who, when, old and new."""

    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL
    )
    system_actor = models.CharField(max_length=60, blank=True)
    action = models.CharField(max_length=40)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["enquiry", "at"], name="event_enquiry_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} on enquiry {self.enquiry_id} at {self.at:%Y-%m-%d %H:%M}"
