from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

import markdown
import nh3
from django.conf import settings
from django.db import models
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from enquiries import taxonomy

from . import matching

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4",
    "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, then sanitised with an allowlist (never a regex)."""
    html = markdown.markdown(text, extensions=["tables"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)


_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {"stamp": None, "index": None}


class CaseStudyQuerySet(models.QuerySet["CaseStudy"]):
    def published(self) -> CaseStudyQuerySet:
        return self.filter(status=CaseStudy.Status.PUBLISHED)

    def search(self, text: str) -> CaseStudyQuerySet:
        qs = self
        for word in text.split()[:8]:
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(summary__icontains=word)
                | Q(body__icontains=word)
            )
        return qs

    def matches_for(
        self, text: str, *, limit: int = 5
    ) -> list[tuple[CaseStudy, matching.Match]]:
        """Published case studies ranked for an enquiry text, best first."""
        index = _published_index()
        found = matching.search(index, text, limit=limit)
        by_slug = self.published().in_bulk([m.key for m in found], field_name="slug")
        return [(by_slug[m.key], m) for m in found if m.key in by_slug]

    def suggest_for(self, text: str, *, limit: int = 5) -> list[CaseStudy]:
        return [study for study, _ in self.matches_for(text, limit=limit)]


@functools.cache
def background_texts() -> tuple[str, ...]:
    """Enquiries in enquirers' own words that help matching (see matching.py)."""
    folder = Path(settings.MATCHING_BACKGROUND_DIR)
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(f"{row.get('title', '')}\n{row.get('description', '')}")
    return tuple(texts)


def _published_index() -> matching.Index | None:
    """The matching index, rebuilt in this process whenever the library changed."""
    published = CaseStudy.objects.published()
    stamp = tuple(published.aggregate(n=Count("id"), at=Max("updated_at")).values())
    with _index_lock:
        if _index_cache["stamp"] != stamp:
            docs = [
                (s.slug, s.matching_text())
                for s in published.only("slug", "title", "summary", "body")
            ]
            _index_cache["index"] = matching.build(docs, background=background_texts())
            _index_cache["stamp"] = stamp
        return _index_cache["index"]


class CaseStudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in-review", "In review"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CaseStudy(models.Model):
    Status = CaseStudyStatus

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField(help_text="Markdown")
    product_type = models.CharField(
        max_length=32, choices=taxonomy.choices("product_types")
    )
    process_types = models.JSONField(default=list, blank=True)
    organisation_type = models.CharField(
        max_length=32, blank=True, choices=taxonomy.choices("organisation_types")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    published = models.DateField(null=True, blank=True)
    is_demo = models.BooleanField(
        default=False, help_text="Demo content; retired when real studies are imported."
    )
    source_enquiry = models.ForeignKey(
        "enquiries.Enquiry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The closed enquiry this study was written from (never copied).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = CaseStudyQuerySet.as_manager()

    class Meta:
        ordering = ["-published", "title"]
        verbose_name_plural = "case studies"
        permissions = [("publish_casestudy", "Can publish or withdraw case studies")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CaseStudyStatus.values),
                name="casestudy_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(product_type__in=taxonomy.PRODUCT_TYPES),
                name="casestudy_product_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("casestudies:detail", kwargs={"slug": self.slug})

    def body_html(self) -> SafeString:
        return render_markdown(self.body)

    def matching_text(self) -> str:
        return f"{self.title}\n{self.summary}\n{self.body}"

    def process_labels(self) -> list[str]:
        return [taxonomy.label("process_types", c) for c in self.process_types]


class Revision(models.Model):
    """History: a snapshot of a case study each time an editor saves or moves it."""

    case_study = models.ForeignKey(
        CaseStudy, on_delete=models.CASCADE, related_name="revisions"
    )
    at = models.DateTimeField(default=timezone.now)
    editor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=30)
    status = models.CharField(max_length=12, choices=CaseStudyStatus.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} of {self.case_study_id} at {self.at:%Y-%m-%d %H:%M}"
