"""The account's secrets: answers that show one (a new API token, a webhook's signing
secret) are never stored by a cache; a user has at most CAIRN_MAX_API_TOKENS tokens;
"Sign out everywhere" revokes every token and ends every other session; a password change
says that tokens stay valid."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from activities import caps, tokens
from activities.models import ApiToken

pytestmark = pytest.mark.django_db


def _signed_in(username: str = "alice", password: str = "correct-horse-9") -> Client:
    browser = Client()
    assert browser.login(username=username, password=password)
    return browser


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_the_page_showing_a_new_token_is_not_stored(user):
    browser = _signed_in()
    shown = browser.post("/settings/tokens/", follow=True)
    assert '<code id="new-token">' in shown.content.decode()
    assert _no_store(shown) and "private" in shown["Cache-Control"]
    assert _no_store(browser.get("/settings/"))


def test_the_answer_with_a_webhooks_secret_is_not_stored(api, settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    made = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook",
                                         "events": ["upload.ready"]},
                    content_type="application/json")
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    assert _no_store(made)


def test_api_tokens_are_capped_per_user(user, other_user, settings):
    settings.CAIRN_MAX_API_TOKENS = 3
    browser = _signed_in()
    for _ in range(3):
        assert '<code id="new-token">' in browser.post("/settings/tokens/",
                                                       follow=True).content.decode()
    refused = browser.post("/settings/tokens/")
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "You have 3 API tokens, the most one account may have" in page
    assert '<code id="new-token">' not in page
    assert ApiToken.objects.filter(user=user).count() == 3
    with pytest.raises(caps.Reached):
        tokens.create(user)
    with pytest.raises(CommandError, match="CAIRN_MAX_API_TOKENS"):
        call_command("create_api_token", "alice")
    tokens.create(other_user)  # another user's count is their own
    # Revoking one makes room for another.
    tokens.revoke(user, ApiToken.objects.filter(user=user).first().id)
    assert browser.post("/settings/tokens/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_tokens_made_at_once_do_not_pass_the_cap(user, settings):
    settings.CAIRN_MAX_API_TOKENS = 3
    start = threading.Barrier(6, timeout=30)
    outcomes: list[str] = []

    def make() -> None:
        from django.db import connection

        start.wait()
        try:
            tokens.create(user)
            outcomes.append("made")
        except caps.Reached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=make) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["made"] * 3 + ["refused"] * 3
    assert ApiToken.objects.filter(user=user).count() == 3


def test_sign_out_everywhere_revokes_tokens_and_ends_other_sessions(user, other_user):
    here, laptop = _signed_in(), _signed_in()
    theirs = _signed_in("mallory", "battery-staple-7")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    tokens.create(user)
    other_api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert api.get("/api/v1/activities").status_code == 200
    assert 'id="sign-out-everywhere"' in here.get("/settings/").content.decode()

    done = here.post("/settings/sign-out-everywhere/", follow=True)
    assert "2 API tokens revoked, 1 other session ended" in done.content.decode()
    assert here.get("/settings/").status_code == 200  # this browser stays signed in
    assert laptop.get("/settings/").status_code == 302  # to the sign-in page
    assert api.get("/api/v1/activities").status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()
    # Nobody else's.
    assert theirs.get("/settings/").status_code == 200
    assert other_api.get("/api/v1/activities").status_code == 200
    assert Client().post("/settings/sign-out-everywhere/").status_code == 302  # sign in first
    assert here.get("/settings/sign-out-everywhere/").status_code == 405


def test_a_password_change_says_api_tokens_stay_valid(user):
    browser = _signed_in()
    page = browser.get("/settings/").content.decode()
    assert "API tokens keep working until you revoke them" in page
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    changed = browser.post("/settings/password/", {
        "old_password": "correct-horse-9", "new_password1": "a-new-long-one-42",
        "new_password2": "a-new-long-one-42"}, follow=True).content.decode()
    assert "Your API tokens still work until you revoke them" in changed
    assert api.get("/api/v1/activities").status_code == 200
