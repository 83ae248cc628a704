from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from enquiries.models import Enquiry


class ClassifierVersionQuerySet(models.QuerySet["ClassifierVersion"]):
    def active(self) -> ClassifierVersion | None:
        return self.filter(is_active=True).first()


class ClassifierVersion(models.Model):
    """A trained model artefact, its digest, its metrics and whether it is live."""

    version = models.CharField(max_length=40, unique=True)
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)
    metrics = models.JSONField(default=dict)
    training_counts = models.JSONField(default=dict)
    review_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per-class confidence thresholds set by staff.",
    )

    objects = ClassifierVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="one_active_classifier",
            ),
        ]

    def __str__(self) -> str:
        return self.version


class Triage(models.Model):
    """The model's classification of one enquiry, and the staff-final labels."""

    enquiry = models.OneToOneField(
        Enquiry, on_delete=models.CASCADE, related_name="triage"
    )
    product_type = models.CharField(max_length=32)
    product_confidence = models.FloatField()
    product_probabilities = models.JSONField(default=dict)
    process_types = models.JSONField(default=list)
    process_confidences = models.JSONField(default=dict)
    needs_review = models.BooleanField(default=True)
    explanation = models.JSONField(default=dict)
    model_version = models.CharField(max_length=40)
    case_studies = models.JSONField(default=list)
    classified_at = models.DateTimeField()

    final_product_type = models.CharField(max_length=32, blank=True)
    final_process_types = models.JSONField(default=list, blank=True)
    labels_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    labels_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["needs_review"], name="triage_needs_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Triage of {self.enquiry_id}"


class RelevanceFeedback(models.Model):
    """A case study that staff attached to a reply: evidence that it was relevant."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="+")
    case_study = models.ForeignKey(
        "casestudies.CaseStudy", on_delete=models.CASCADE, related_name="+"
    )
    suggested_rank = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Position in the suggestions; empty if not suggested.",
    )
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enquiry", "case_study"], name="one_feedback_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_study_id} for {self.enquiry_id}"


class Team(models.Model):
    """A specialist team that enquiries are routed to."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="triage_teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Routing(models.Model):
    """An enquiry routed to a team (several teams give one coordinated reply)."""

    enquiry = models.ForeignKey(
        Enquiry, on_delete=models.CASCADE, related_name="routings"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routings")
    routed_at = models.DateTimeField(auto_now_add=True)
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enquiry", "team"], name="one_routing_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry_id} -> {self.team_id}"


class RoutingRule(models.Model):
    """Product and/or process type to team; the lowest precedence number wins."""

    product_type = models.CharField(max_length=32, blank=True)
    process_type = models.CharField(max_length=40, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    precedence = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["precedence", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(product_type="", process_type=""),
                name="rule_names_a_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_type or '*'} / {self.process_type or '*'} -> {self.team}"

    def matches(self, product_type: str, process_types: list[str]) -> bool:
        return (not self.product_type or self.product_type == product_type) and (
            not self.process_type or self.process_type in process_types
        )


class CannedResponse(models.Model):
    title = models.CharField(max_length=120, unique=True)
    body = models.TextField()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ApiToken(models.Model):
    """A staff member's API token, stored only as a SHA-256 hash; revocable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
