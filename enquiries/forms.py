from __future__ import annotations

import zipfile
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from . import taxonomy

DESCRIPTION_MIN = 50
DESCRIPTION_MAX = 10_000

# Allowed kinds of attachment, recognised by their content (never by name).
KIND_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}


def sniff_content_type(upload: UploadedFile[Any]) -> str | None:
    """The real type of an upload from its bytes, or None if it is not allowed."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return next(k for k, v in KIND_LABELS.items() if v == "DOCX")
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return next(k for k, v in KIND_LABELS.items() if v == "XLSX")
    return None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class EnquiryForm(forms.Form):
    """The public enquiry form. Validates only; the view passes cleaned_data on."""

    organisation_name = forms.CharField(
        label="Organisation name",
        max_length=200,
        help_text="If you are writing as an individual, enter your own name.",
        error_messages={"required": "Enter the name of your organisation"},
    )
    organisation_type = forms.ChoiceField(
        label="Type of organisation",
        choices=taxonomy.choices("organisation_types"),
        widget=forms.RadioSelect,
        error_messages={"required": "Select the type of organisation"},
    )
    contact_name = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": "Enter your full name"},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send your reference number and status link here.",
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, "
            "like name@example.com",
        },
    )
    phone = forms.RegexField(
        label="Telephone number (optional)",
        required=False,
        max_length=40,
        regex=r"^\+?[0-9 ()\-]{7,40}$",
        error_messages={
            "invalid": "Enter a telephone number, like 01632 960 001 or "
            "+44 808 157 0192"
        },
    )
    development_stage = forms.ChoiceField(
        label="Stage of development",
        choices=taxonomy.choices("development_stages"),
        widget=forms.RadioSelect,
        error_messages={"required": "Select the stage of development"},
    )
    title = forms.CharField(
        label="Short title for your enquiry",
        max_length=150,
        error_messages={
            "required": "Enter a short title for your enquiry",
            "max_length": "Title must be 150 characters or fewer",
        },
    )
    description = forms.CharField(
        label="Describe your product and your question",
        help_text="Say what the product is, what it is for, what is new about how it "
        "is made or tested, and what you would like to ask. "
        f"Between {DESCRIPTION_MIN} and {DESCRIPTION_MAX:,} characters.",
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Describe your product and your question"},
    )
    product_type_guess = forms.ChoiceField(
        label="What type of product do you think it is? (optional)",
        choices=[("", "Not sure"), *taxonomy.choices("product_types")],
        required=False,
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(
        label="Supporting documents (optional)",
        required=False,
        help_text=f"Up to {settings.MAX_ATTACHMENTS} files. PDF, DOCX, XLSX, PNG or "
        "JPEG, each 10 MB or smaller.",
    )
    confidential = forms.BooleanField(
        label="My enquiry contains commercially confidential information",
        required=False,
    )
    consent = forms.BooleanField(
        label="I have read the privacy notice and agree that the office may use "
        "these details to answer my enquiry",
        error_messages={"required": "Confirm that you have read the privacy notice"},
    )
    # Honeypot: hidden from people and assistive technology; bots fill it in.
    website = forms.CharField(required=False, label="Leave this field empty")

    def __init__(self, *args: Any, attachments_required: bool = True, **kw: Any):
        super().__init__(*args, **kw)
        if not attachments_required:
            del self.fields["attachments"]

    def clean_description(self) -> str:
        text: str = self.cleaned_data["description"].strip()
        if len(text) < DESCRIPTION_MIN:
            raise forms.ValidationError(
                f"Description must be at least {DESCRIPTION_MIN} characters "
                f"(you entered {len(text)})"
            )
        if len(text) > DESCRIPTION_MAX:
            raise forms.ValidationError(
                f"Description must be {DESCRIPTION_MAX:,} characters or fewer "
                f"(you entered {len(text):,})"
            )
        return text

    def clean_attachments(self) -> list[tuple[UploadedFile[Any], str]]:
        files: list[UploadedFile[Any]] = self.cleaned_data.get("attachments") or []
        if len(files) > settings.MAX_ATTACHMENTS:
            raise forms.ValidationError(
                f"Select {settings.MAX_ATTACHMENTS} files or fewer "
                f"(you selected {len(files)})"
            )
        checked = []
        for upload in files:
            name = upload.name or "file"
            if upload.size is not None and upload.size > settings.MAX_ATTACHMENT_BYTES:
                raise forms.ValidationError(f"{name} must be 10 MB or smaller")
            if not upload.size:
                raise forms.ValidationError(f"{name} is empty")
            kind = sniff_content_type(upload)
            if kind is None:
                raise forms.ValidationError(
                    f"{name} must be a PDF, DOCX, XLSX, PNG or JPEG file"
                )
            checked.append((upload, kind))
        return checked

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(
                "We could not accept this submission. If you are a person, please "
                "clear the field labelled 'Leave this field empty' and try again."
            )
        return ""
