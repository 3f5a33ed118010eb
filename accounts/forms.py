"""The sign-up form: Django's UserCreationForm and an email address (for password resets)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="Where a password-reset link is sent, if you ask for one.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        return unique_email(self.cleaned_data["email"], user=None)


def unique_email(email: str, *, user) -> str:
    """One account per address, or a reset link would go to whichever matched first."""
    others = get_user_model().objects.filter(email__iexact=email)
    if email and others.exclude(pk=getattr(user, "pk", None)).exists():
        raise forms.ValidationError("An account with this email address exists already.")
    return email


class EmailForm(forms.Form):
    email = forms.EmailField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        return unique_email(self.cleaned_data["email"], user=self.user)


class InvitationForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, label="For whom (a note)")
