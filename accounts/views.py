"""Sign-up (CAIRN_SIGNUP: closed, invite or open) and the staff page of invitation links.
Passwords are reset through Django's own views (accounts/urls.py)."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import EmailForm, InvitationForm, SignupForm
from accounts.models import Invitation, digest

log = structlog.get_logger(__name__)

#: Session key holding an invitation link just made, until the page has shown it once.
NEW_LINK = "cairn_new_invitation"


def _open_invitation(token: str | None, *, lock: bool = False) -> Invitation | None:
    if not token:
        return None
    found = Invitation.objects.filter(token_sha256=digest(token))
    if lock:
        found = found.select_for_update()
    invitation = found.first()
    return invitation if invitation and invitation.state(timezone.now()) == "open" else None


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, token: str | None = None) -> HttpResponse:
    """Closed: no such page. Invite: only through an unused, unexpired link. Open: anyone."""
    mode = settings.CAIRN_SIGNUP
    if mode == "closed" or (mode == "invite" and token is None):
        raise Http404("Sign-up is not open.")
    if token is not None and _open_invitation(token) is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if request.user.is_authenticated:
        messages.info(request, f"You are signed in as {request.user.get_username()} already.")
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            invitation = _open_invitation(token, lock=True) if token else None
            if token is not None and invitation is None:
                # Used by someone else between the page and this answer.
                return render(request, "accounts/invitation_invalid.html", status=404)
            user = form.save()
            if invitation is not None:
                invitation.used_at, invitation.used_by = timezone.now(), user
                invitation.save(update_fields=["used_at", "used_by"])
        log.info("account.signed_up", user_id=user.id,
                 invitation_id=invitation.id if invitation else None)
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.info(request, f"Welcome, {user.get_username()}: your account is ready.")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form, "token": token},
                  status=400 if request.method == "POST" else 200)


@staff_member_required
@require_http_methods(["GET", "POST"])
def invitations_page(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation, token = Invitation.make(by=request.user, note=form.cleaned_data["note"],
                                            now=timezone.now())
        log.info("invitation.created", invitation_id=invitation.id, by=request.user.id)
        request.session[NEW_LINK] = request.build_absolute_uri(
            reverse("signup-invited", args=[token]))
        return redirect("invitations-page")
    now = timezone.now()
    invitations = [(i, i.state(now)) for i in
                   Invitation.objects.select_related("created_by", "used_by")[:100]]
    return render(request, "accounts/invitations.html", {
        "form": form, "invitations": invitations, "mode": settings.CAIRN_SIGNUP,
        "days": settings.CAIRN_INVITE_DAYS,
        "new_link": request.session.pop(NEW_LINK, None)})


@login_required
@require_POST
def change_email(request: HttpRequest) -> HttpResponse:
    """The account page's email address (where password resets go)."""
    form = EmailForm(request.POST, user=request.user)
    if form.is_valid():
        request.user.email = form.cleaned_data["email"]
        request.user.save(update_fields=["email"])
        messages.info(request, f"Saved: password resets go to {request.user.email}."
                      if request.user.email else "Saved: no email address.")
    else:
        messages.error(request, " ".join(form.errors["email"]))
    return redirect(reverse("settings-page") + "#email-title")
