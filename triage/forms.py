from __future__ import annotations

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
    product_type = forms.ChoiceField(choices=taxonomy.choices("product_types"))
    process_types = forms.MultipleChoiceField(
        choices=taxonomy.choices("process_types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,  # one labelled id per box
    )
