from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from enquiries import taxonomy

from .models import CaseStudy


class CaseStudyForm(forms.ModelForm[CaseStudy]):
    """Validation only: the view hands cleaned_data to services.save_case_study."""

    process_types = forms.MultipleChoiceField(
        choices=taxonomy.choices("process_types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Process types",
    )

    class Meta:
        model = CaseStudy
        fields = ["title", "slug", "summary", "body", "product_type",
                  "process_types", "organisation_type", "published"]  # fmt: skip
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "body": forms.Textarea(attrs={"rows": 16}),
            "published": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "slug": "Lower-case words joined by hyphens; part of the public address.",
            "body": "Markdown. HTML is removed when it is shown.",
        }

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        study = self.instance
        public = (CaseStudy.Status.PUBLISHED, CaseStudy.Status.WITHDRAWN)
        if study.pk and study.status in public and slug != study.slug:
            raise forms.ValidationError(
                "The address cannot change once a case study has been published: "
                f"replies and emails already link to /case-studies/{study.slug}/"
            )
        return slug

    def clean_published(self) -> date | None:
        published: date | None = self.cleaned_data.get("published")
        if published and published > timezone.localdate():
            raise forms.ValidationError("Publication date must be today or in the past")
        return published
