from __future__ import annotations

from django import forms

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
