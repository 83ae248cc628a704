from __future__ import annotations

from typing import Any

from django import forms

from enquiries import taxonomy


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, error_messages={"required": "Enter your username"}
    )
    password = forms.CharField(
        widget=forms.PasswordInput, error_messages={"required": "Enter your password"}
    )
    token = forms.RegexField(
        regex=r"^\d{6}$",
        required=False,
        label="Code from your authenticator app",
        error_messages={
            "invalid": "Enter the 6-digit code from your authenticator app"
        },
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\d{6}$",
        label="Code from your authenticator app",
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app",
            "invalid": "Enter the 6-digit code from your authenticator app",
        },
    )


class LabelsForm(forms.Form):
    product_type = forms.ChoiceField(
        choices=taxonomy.choices("product_types"),
        error_messages={
            "required": "Choose a product type",
            "invalid_choice": "Choose a product type from the list",
        },
    )
    process_types = forms.MultipleChoiceField(
        choices=taxonomy.choices("process_types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,  # one labelled id per box
        error_messages={"invalid_choice": "Choose process types from the list"},
    )


class ThresholdsForm(forms.Form):
    """Per product type, the confidence needed to skip review (empty: the trained
    one). Above 1 means always review, so the range is 0 to 1.01."""

    LOWEST, HIGHEST = 0.0, 1.01

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in taxonomy.choices("product_types"):
            name = f"Threshold for {label}"
            between = f"{name} must be between 0 and {self.HIGHEST}"
            self.fields[self.field_name(code)] = forms.FloatField(
                required=False, label=name, min_value=self.LOWEST,
                max_value=self.HIGHEST,
                error_messages={"invalid": f"{name} must be a number, like 0.75",
                                "min_value": between, "max_value": between},
            )  # fmt: skip

    @staticmethod
    def field_name(code: str) -> str:
        return f"threshold-{code}"

    def overrides(self) -> dict[str, float]:
        """The thresholds typed in, by product type (call after is_valid())."""
        return {
            code: round(value, 4)
            for code in taxonomy.PRODUCT_TYPES
            if (value := self.cleaned_data.get(self.field_name(code))) is not None
        }


class ReplyForm(forms.Form):
    """A reply as typed: bound only so that a refused one is shown again intact
    (the service decides whether it can be sent)."""

    body = forms.CharField(required=False, strip=False, widget=forms.Textarea)


class DataRequestForm(forms.Form):
    """A subject access (export) or erasure request for one email address."""

    email = forms.EmailField(
        max_length=254,
        label="Email address",
        error_messages={
            "required": "Enter the email address the request is about",
            "invalid": "Enter an email address in the correct format, "
            "like name@example.com",
        },
    )
    action = forms.CharField(required=False)  # which button: export or erase
    confirm = forms.BooleanField(
        required=False,
        label="I have checked the request is genuine and want to erase this "
        "person's data",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") not in ("export", "erase"):
            self.add_error(None, "Choose Export as JSON or Erase")
        elif data["action"] == "erase" and not data.get("confirm"):
            self.add_error("confirm", "Tick the box to confirm the erasure")
        return data
