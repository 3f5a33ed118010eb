"""Merging a probable duplicate in Chromium: the list marks it with Keep both and Merge,
the Merge button keeps the bike computer's ride (which takes the watch's heart rate), the
watch's page says "Merged into …" and its Unmerge button brings it back. Forms, no
script."""

from __future__ import annotations

import pytest

from tests import twins
from tests.browser.conftest import DESKTOP, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_merge_and_unmerge_from_the_pages(open_page, expect, user):
    from activities import ingest
    from activities.models import Activity
    from reconciler import sweep

    ride = ingest.accept(twins.bike_fit(), owner=user, original_name="ride.fit",
                         details=ingest.Details(name="Bike computer")).activity
    sweep.drain()
    worn = ingest.accept(twins.watch_gpx(), owner=user, original_name="watch.gpx",
                         details=ingest.Details(name="Watch")).activity
    sweep.drain()
    assert Activity.objects.get(id=worn.id).duplicate_of_id == ride.id
    page = open_page(DESKTOP)
    sign_in(page)
    page.goto("/activities/")
    expect(page.get_by_text("Probably the same as")).to_be_visible()
    expect(page.get_by_role("button", name="Keep both")).to_be_visible()
    page.goto(f"/activities/{worn.id}/")
    expect(page.get_by_text("Probably the same outing as")).to_be_visible()
    shoot(page, "merge-offered")
    page.locator("#merge").click()
    page.wait_for_url(f"**/activities/{ride.id}/")
    expect(page.get_by_text("It took heart rate from it.")).to_be_visible()
    sweep.drain()
    page.goto("/activities/")
    assert page.locator(".activity-card").count() == 1
    page.goto(f"/activities/{ride.id}/")
    expect(page.locator("#activity-merged-from")).to_contain_text("heart rate taken")
    page.goto(f"/activities/{worn.id}/")
    expect(page.get_by_text("Merged into")).to_be_visible()
    shoot(page, "merged")
    page.get_by_role("button", name="Unmerge").click()
    page.wait_for_url(f"**/activities/{worn.id}/")
    expect(page.get_by_text("Unmerged: it counts again")).to_be_visible()
    sweep.drain()
    page.goto("/activities/")
    assert page.locator(".activity-card").count() == 2
