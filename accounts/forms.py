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
        email = self.cleaned_data["email"]
        # One account per address, or a reset link would go to whichever matched first.
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address exists already.")
        return email


class InvitationForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, label="For whom (a note)")
