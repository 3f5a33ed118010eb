"""The account page: units and maximum heart rate, the password, API tokens shown once
and revoked; another user's token is a 404. And what the settings change on the activity
page: splits in the unit, heart-rate zones from the maximum."""

from __future__ import annotations

import pytest
from django.test import Client

from activities.models import ApiToken, Profile
from tests import factories

pytestmark = pytest.mark.django_db


def _signed_in(username: str = "alice", password: str = "correct-horse-9") -> Client:
    browser = Client()
    assert browser.login(username=username, password=password)
    return browser


def test_units_and_maximum_heart_rate_are_saved(user):
    browser = _signed_in()
    response = browser.post("/settings/", {"units": "imperial", "max_hr": "188"}, follow=True)
    assert "maximum heart rate 188 bpm" in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert (profile.units, profile.max_hr) == ("imperial", 188)
    # Empty takes it away again.
    browser.post("/settings/", {"units": "metric", "max_hr": ""})
    assert Profile.objects.get(user=user).max_hr is None


@pytest.mark.parametrize("max_hr", ["40", "300", "fast"])
def test_an_impossible_maximum_is_refused_with_a_sentence(user, max_hr):
    response = _signed_in().post("/settings/", {"units": "metric", "max_hr": max_hr})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Profile.objects.get(user=user).max_hr is None


def test_the_password_is_changed_and_this_session_stays_signed_in(user):
    browser = _signed_in()
    wrong = browser.post("/settings/password/", {
        "old_password": "nope", "new_password1": "a-new-long-one-42",
        "new_password2": "a-new-long-one-42"})
    assert wrong.status_code == 400
    assert "incorrect" in wrong.content.decode()
    response = browser.post("/settings/password/", {
        "old_password": "correct-horse-9", "new_password1": "a-new-long-one-42",
        "new_password2": "a-new-long-one-42"}, follow=True)
    assert "Your password was changed." in response.content.decode()
    assert browser.get("/activities/").status_code == 200  # still signed in
    user.refresh_from_db()
    assert user.check_password("a-new-long-one-42")


def test_a_token_is_shown_once_works_and_is_revoked(user, other_user):
    browser = _signed_in()
    page = browser.post("/settings/tokens/", follow=True).content.decode()
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert token.startswith("cairn_")
    assert token not in browser.get("/settings/").content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/activities").status_code == 200
    row = ApiToken.objects.get(user=user)
    # Mallory cannot revoke it: not hers, so it does not exist for her.
    mallory = _signed_in("mallory", "battery-staple-7")
    assert mallory.post(f"/settings/tokens/{row.id}/revoke/").status_code == 404
    assert ApiToken.objects.filter(id=row.id).exists()
    assert browser.post(f"/settings/tokens/{row.id}/revoke/").status_code == 302
    assert not ApiToken.objects.filter(id=row.id).exists()
    assert api.get("/api/v1/activities").status_code == 401


def test_the_account_pages_need_sign_in_and_post():
    assert Client().get("/settings/").status_code == 302
    assert Client().post("/settings/tokens/").status_code == 302
    assert _signed_in_get_is_refused() == 405


def _signed_in_get_is_refused() -> int:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("bob", password="x-long-password-1")
    return _signed_in("bob", "x-long-password-1").get("/settings/tokens/").status_code


def test_splits_follow_the_unit_and_zones_the_maximum(user, upload):
    from reconciler import sweep

    # 1,500 points 5 s apart at about 5 m/s: some 37 km, so km and mile splits.
    activity = upload(factories.gpx(points=1500)).activity
    sweep.drain()
    browser = _signed_in()
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert "Splits per kilometre" in page
    assert 'id="zones-missing"' in page  # heart rate, but no maximum yet
    browser.post("/settings/", {"units": "imperial", "max_hr": "190"})
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert "Splits per mile" in page and "1.00 mi" in page
    assert 'id="zones"' in page and "Z5 Maximum" in page and "171+ bpm" in page
