"""The duplicates check through the loop: a corpus ride uploaded as FIT and again as GPX
(written from it) is found, the GPX pointing at the FIT (more points: the one kept); a ride
on another day is not; "Keep both" unpairs them for good; deleting the kept one unpairs
the other; the check's run reads positions only of activities that meet in time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import deletion, ingest, tokens
from activities.models import Activity
from core import decode
from core.writers import Meta, write
from duplicates.models import Check, Footprint, KeptPair
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from tests.corpus import require_corpus

pytestmark = pytest.mark.django_db

RIDE = "fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"


def _upload(user, data: bytes, name: str) -> Activity:
    with freeze_time(NOW):
        activity = ingest.accept(data, owner=user, original_name=name).activity
        sweep.drain()
    return Activity.objects.get(id=activity.id)


@pytest.fixture
def pair(user):
    original = Path(require_corpus(), RIDE).read_bytes()
    fit = _upload(user, original, "ride.fit")
    gpx = _upload(user, write(decode.decode(original, "fit"), Meta(name="Ride"), "gpx"),
                  "ride.gpx")
    return fit, gpx


@pytest.mark.corpus
def test_a_ride_uploaded_as_fit_and_as_gpx_is_found_and_the_fit_kept(user, pair):
    fit, gpx = pair
    other = _upload(user, factories.gpx(points=100), "walk.gpx")
    assert Activity.objects.get(id=gpx.id).duplicate_of_id == fit.id
    assert Activity.objects.get(id=fit.id).duplicate_of_id is None
    assert Activity.objects.get(id=other.id).duplicate_of_id is None
    check = Check.objects.get(user=user)
    assert check.status == Check.Status.READY and check.pairs == [[fit.id, gpx.id]]
    assert set(Footprint.objects.values_list("activity_id", flat=True)) == {
        fit.id, gpx.id, other.id}
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    assert api.get(f"/api/v1/activities/{gpx.id}").json()["duplicate_of"] == fit.id
    assert api.get(f"/api/v1/uploads/{gpx.upload_id}").json()["probable_duplicate_of"] == fit.id
    assert api.get(f"/api/v1/uploads/{fit.upload_id}").json()["probable_duplicate_of"] is None


@pytest.mark.corpus
def test_keep_both_unpairs_them_for_good(user, pair):
    fit, gpx = pair
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    with freeze_time(NOW):
        response = api.post(f"/api/v1/activities/{gpx.id}/keep-both")
        assert response.status_code == 200 and response.json()["duplicate_of"] is None
        sweep.drain()
    assert KeptPair.objects.filter(first_id=fit.id, second_id=gpx.id).exists()
    assert Activity.objects.get(id=gpx.id).duplicate_of_id is None
    assert Check.objects.get(user=user).pairs == []
    with freeze_time(NOW):
        again = api.post(f"/api/v1/activities/{gpx.id}/keep-both")
    assert again.status_code == 409 and again.json()["error"]["code"] == "NotADuplicate"


@pytest.mark.corpus
def test_deleting_the_kept_one_unpairs_the_other(user, pair):
    fit, gpx = pair
    with freeze_time(NOW):
        deletion.request(Activity.objects.filter(id=fit.id), now=NOW)
        sweep.drain()
    assert Activity.objects.get(id=gpx.id).duplicate_of_id is None
    assert not Footprint.objects.filter(activity_id=fit.id).exists()


@pytest.mark.corpus
def test_the_activity_page_says_so_and_keeps_both_from_its_button(user, pair):
    fit, gpx = pair
    browser = Client()
    browser.force_login(user)
    page = browser.get(f"/activities/{gpx.id}/").content.decode()
    assert "Probably the same outing as" in page and f'href="/activities/{fit.id}/"' in page
    listed = browser.get("/activities/").content.decode()
    assert "Probably the same as" in listed
    with freeze_time(NOW):
        response = browser.post(f"/activities/{gpx.id}/keep-both/")
    assert response.status_code == 302
    assert Activity.objects.get(id=gpx.id).duplicate_of_id is None


def test_rides_on_other_days_are_no_pair_and_another_user_cannot_keep_both(user,
                                                                            other_user):
    first = _upload(user, factories.gpx(points=100), "a.gpx")
    second = _upload(user, factories.gpx(points=100), "b.gpx")
    assert not Activity.objects.filter(duplicate_of__isnull=False).exists()
    Activity.objects.filter(id=second.id).update(duplicate_of=first)
    intruder = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    response = intruder.post(f"/api/v1/activities/{second.id}/keep-both",
                             data=json.dumps({}), content_type="application/json")
    assert response.status_code == 404
    assert Activity.objects.get(id=second.id).duplicate_of_id == first.id


def test_a_user_with_more_tracks_than_a_run_makes_is_checked_over_several_leases(
        user, monkeypatch):
    from duplicates import check

    monkeypatch.setattr(check, "TRACKS_PER_RUN", 2)
    data = factories.gpx(points=60)
    ids = [_upload(user, factories.gpx(points=60), f"{n}.gpx").id for n in range(4)]
    twin = _upload(user, write(decode.decode(data, "gpx"), Meta(), "fit"), "twin.fit")
    first = _upload(user, data, "first.gpx")
    assert Footprint.objects.count() == len(ids) + 2
    assert Activity.objects.get(id=first.id).duplicate_of_id == twin.id  # the older
    # A re-sync: every footprint made again, two a lease, the pair found at the end.
    from duplicates import resync

    before = check_runs()
    with freeze_time(NOW):
        resync.resync([user.id], now=NOW)
        sweep.drain()
    assert Footprint.objects.count() == len(ids) + 2
    assert Check.objects.get(user=user).pairs == [[twin.id, first.id]]
    assert check_runs() - before == 3  # six footprints, two a lease


def test_tracks_stored_before_digests_were_kept_are_footprinted_once(user, monkeypatch):
    """A track without a digest (stored before they were kept) gets its footprint once, like
    any other: were it made again each run, a user with more such tracks than a run makes
    would be checked for ever, the same first ones each lease."""
    from activities.models import Derived
    from duplicates import check, resync

    monkeypatch.setattr(check, "TRACKS_PER_RUN", 2)
    data = factories.gpx(points=60)
    ids = [_upload(user, factories.gpx(points=60), f"{n}.gpx").id for n in range(3)]
    twin = _upload(user, write(decode.decode(data, "gpx"), Meta(), "fit"), "twin.fit")
    first = _upload(user, data, "first.gpx")
    Derived.objects.filter(deriver="track").update(digest=None)
    before = check_runs()
    with freeze_time(NOW):
        resync.resync([user.id], now=NOW)
        sweep.drain(budget_s=30)  # the old code never stopped
    assert check_runs() - before == 3  # five footprints, two a lease
    assert Footprint.objects.count() == len(ids) + 2
    assert Check.objects.get(user=user).pairs == [[twin.id, first.id]]
    assert not Check.objects.get(user=user).needs_work


def check_runs() -> int:
    from work.models import Attempt

    return Attempt.objects.filter(kind="duplicates").count()
