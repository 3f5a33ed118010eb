"""The account page: display settings (units, maximum heart rate), the password, API
tokens (made here and shown once, listed by their first characters, revoked here), and
signing out everywhere. Every render is `no-store`: it may show a new token."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from activities import caps, changes, signout, times, tokens
from activities.models import ApiToken, Profile
from work import clock

#: Session key holding a token just made, until the page has shown it once.
NEW_TOKEN = "cairn_new_token"


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=times.choices, required=False, label="Time zone")

    class Meta:
        model = Profile
        fields = ["units", "time_zone", "max_hr"]
        widgets = {"units": forms.RadioSelect,
                   "max_hr": forms.NumberInput(attrs={"inputmode": "numeric"})}
        labels = {"units": "Units", "max_hr": "Maximum heart rate (bpm)"}


def _page(request: HttpRequest, profile: Profile, *, form: ProfileForm | None = None,
          password: PasswordChangeForm | None = None, status: int = 200) -> HttpResponse:
    password = password or PasswordChangeForm(request.user)
    # Django's form autofocuses the old password: on this page it would jump past the rest.
    password.fields["old_password"].widget.attrs.pop("autofocus", None)
    response = render(request, "activities/settings.html", {
        "form": form or ProfileForm(instance=profile),
        "password_form": password,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
        # Shown on this one answer only: popped from the session as it is read.
        "new_token": request.session.pop(NEW_TOKEN, None),
        "units": profile.units,
    }, status=status)
    # A new token is in this answer: no cache (the browser's, a proxy's) may keep it, and
    # the back button must not show it again.
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    profile, _ = Profile.objects.get_or_create(user=request.user)
    if request.method == "GET":
        return _page(request, profile)
    zone_before, max_hr_before = profile.time_zone, profile.max_hr
    form = ProfileForm(request.POST, instance=profile)
    if not form.is_valid():
        return _page(request, profile, form=form, status=400)
    with transaction.atomic():
        form.save()
        if profile.time_zone != zone_before:
            # Totals count activities without a zone of their own on this zone's dates.
            changes.zone_changed.send(sender=Profile, user_id=request.user.id,
                                      now=clock.now())
        if profile.max_hr != max_hr_before:
            # Heart-rate loads read it where no dated maximum is set.
            changes.max_hr_changed.send(sender=Profile, user_id=request.user.id,
                                        now=clock.now())
    saved = profile.get_units_display()
    if profile.time_zone:
        saved += f", time zone {profile.time_zone}"
    if profile.max_hr:
        saved += f", maximum heart rate {profile.max_hr} bpm"
    messages.info(request, f"Saved: {saved}.")
    return redirect("settings-page")


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        profile, _ = Profile.objects.get_or_create(user=request.user)
        return _page(request, profile, password=form, status=400)
    user = form.save()
    update_session_auth_hash(request, user)  # this session stays signed in; others end
    # API tokens are credentials of their own (programs that sync keep working): they stay
    # valid, and the answer says so, pointing at "Sign out everywhere".
    said = "Your password was changed. Your other browsers were signed out."
    if ApiToken.objects.filter(user=user).exists():
        said += (" Your API tokens still work until you revoke them: below, or all at once "
                 "with “Sign out everywhere”.")
    messages.info(request, said)
    return redirect("settings-page")


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    try:
        request.session[NEW_TOKEN] = tokens.create(request.user)
    except caps.Reached as error:
        messages.error(request, str(error))
        profile, _ = Profile.objects.get_or_create(user=request.user)
        return _page(request, profile, status=409)
    return redirect("settings-page")


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """Every API token revoked, every other session of the user ended; this one stays."""
    ended = signout.everywhere(request.user, keep=request.session.session_key)
    messages.info(request, f"Signed out everywhere: {_count(ended.tokens, 'API token')} "
                  f"revoked, {_count(ended.sessions, 'other session')} ended.")
    return redirect("settings-page")


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    if not tokens.revoke(request.user, token_id):
        raise Http404("No such token.")
    messages.info(request, "The token was revoked: requests that use it are refused from now on.")
    return redirect("settings-page")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
