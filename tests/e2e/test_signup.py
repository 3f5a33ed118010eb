"""Accounts: sign-up in each CAIRN_SIGNUP mode (closed, invite with single-use expiring
links made by staff, open) and a password reset by email (Django's locmem outbox)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation

pytestmark = pytest.mark.django_db

NEW = {"username": "bob", "email": "bob@example.org", "password1": "granite-summit-42",
       "password2": "granite-summit-42"}


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="staff-pass-77",
                                                 is_staff=True)


def _invite(client: Client, staff, note: str = "for Bob") -> str:
    client.force_login(staff)
    response = client.post("/staff/invitations/", {"note": note})
    assert response.status_code == 302
    page = client.get("/staff/invitations/").content.decode()
    link = re.search(r'<code id="new-link">([^<]+)</code>', page).group(1)
    # Shown once: the next visit no longer has it.
    assert "new-link" not in client.get("/staff/invitations/").content.decode()
    client.logout()
    return link.removeprefix("http://testserver")


def test_closed_sign_up_has_no_page_even_with_a_valid_link(settings, client, staff):
    settings.CAIRN_SIGNUP = "invite"
    link = _invite(client, staff)
    settings.CAIRN_SIGNUP = "closed"
    assert client.get("/signup/").status_code == 404
    assert client.get(link).status_code == 404
    assert client.post(link, NEW).status_code == 404
    assert not get_user_model().objects.filter(username="bob").exists()
    assert "Create an account" not in client.get("/login/").content.decode()


def test_invite_makes_one_account_per_link(settings, client, staff):
    settings.CAIRN_SIGNUP = "invite"
    assert client.get("/signup/").status_code == 404
    assert client.post("/signup/", NEW).status_code == 404
    link = _invite(client, staff)
    assert client.get(link).status_code == 200
    response = client.post(link, NEW)
    assert response.status_code == 302
    bob = get_user_model().objects.get(username="bob")
    assert bob.email == "bob@example.org" and not bob.is_staff
    # Signed in as the new account.
    assert client.get("/activities/").context["user"] == bob
    invitation = Invitation.objects.get()
    assert invitation.used_by == bob and invitation.used_at is not None
    # The link is spent, for anyone.
    other = Client()
    refused = other.post(link, {**NEW, "username": "carol", "email": "c@example.org"})
    assert refused.status_code == 404
    assert b"not valid" in refused.content
    assert not get_user_model().objects.filter(username="carol").exists()
    # The staff page says who used it.
    other.force_login(staff)
    assert "used by bob" in other.get("/staff/invitations/").content.decode()


def test_an_expired_or_made_up_link_is_refused(settings, client, staff):
    settings.CAIRN_SIGNUP = "invite"
    link = _invite(client, staff)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link).status_code == 404
    assert client.post(link, NEW).status_code == 404
    assert client.get("/signup/not-a-real-token/").status_code == 404
    assert not get_user_model().objects.filter(username="bob").exists()


def test_only_staff_make_invitations(settings, client, user):
    client.force_login(user)
    response = client.post("/staff/invitations/", {"note": "sneaky"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Invitation.objects.exists()


def test_open_sign_up_needs_no_link_but_a_valid_form(settings, client, user):
    settings.CAIRN_SIGNUP = "open"
    assert "Create an account" in client.get("/login/").content.decode()
    assert client.get("/signup/").status_code == 200
    user.email = "alice@example.org"
    user.save()
    taken = client.post("/signup/", {**NEW, "email": "ALICE@example.org"})
    assert taken.status_code == 400
    assert "exists already" in taken.content.decode()
    mismatch = client.post("/signup/", {**NEW, "password2": "something-else-42"})
    assert mismatch.status_code == 400
    assert client.post("/signup/", NEW).status_code == 302
    assert get_user_model().objects.filter(username="bob").exists()


def test_password_reset_by_email(settings, client, user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user.email = "alice@example.org"
    user.save()
    # An address nobody has: the same answer, and no email.
    assert client.post("/password-reset/", {"email": "nobody@example.org"}).status_code == 302
    assert mail.outbox == []
    response = client.post("/password-reset/", {"email": "alice@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your Cairn password"
    link = re.search(r"http://testserver(/reset/\S+/)", message.body).group(1)
    # Django swaps the token for a session marker, then shows the form there.
    form_url = client.get(link)["Location"]
    assert b"Choose a new password" in client.get(form_url).content
    done = client.post(form_url, {"new_password1": "fresh-ridge-88",
                                  "new_password2": "fresh-ridge-88"})
    assert done.status_code == 302 and done["Location"] == "/reset/done/"
    assert Client().login(username="alice", password="fresh-ridge-88")
    assert not Client().login(username="alice", password="correct-horse-9")
    # The link works once.
    again = Client().get(link, follow=True)
    assert b"This link does not work" in again.content


def test_the_account_page_sets_the_email_resets_go_to(client, user, django_user_model):
    django_user_model.objects.create_user("bob", email="bob@example.org", password="x-y-z-1")
    client.force_login(user)
    assert 'id="id_email"' in client.get("/settings/").content.decode()
    saved = client.post("/settings/email/", {"email": "alice@example.org"}, follow=True)
    assert "password resets go to alice@example.org" in saved.content.decode()
    user.refresh_from_db()
    assert user.email == "alice@example.org"
    # Another account's address (in any case) and a malformed one are refused.
    for bad, reason in (("BOB@example.org", "exists already"), ("not-an-address", "valid")):
        refused = client.post("/settings/email/", {"email": bad}, follow=True)
        assert reason in refused.content.decode()
        user.refresh_from_db()
        assert user.email == "alice@example.org"
    assert client.get("/settings/email/").status_code == 405
    client.logout()
    assert client.post("/settings/email/", {"email": "x@example.org"}).status_code == 302
    user.refresh_from_db()
    assert user.email == "alice@example.org"
