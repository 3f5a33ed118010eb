"""Deleting an activity from its page in Chromium: a link, a confirmation page, a form;
no script (the page's Content-Security-Policy would report one)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import PHONE, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_delete_asks_first_then_the_activity_is_gone(open_page, expect, user):
    from activities import ingest
    from activities.models import Activity
    from reconciler import sweep

    activity = ingest.accept(factories.gpx(), owner=user, details=ingest.Details(
        name="Lunch ride")).activity
    sweep.drain()
    page = open_page(PHONE)
    sign_in(page)
    page.goto(f"/activities/{activity.id}/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete Lunch ride?")).to_be_visible()
    shoot(page, "delete-confirm-phone")
    # Cancel leaves it alone.
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"**/activities/{activity.id}/")
    assert Activity.objects.get(id=activity.id).deleted_at is None
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/activities/")
    expect(page.get_by_text("Deleted Lunch ride.")).to_be_visible()
    assert page.locator(".activity-card").count() == 0
    assert Activity.objects.get(id=activity.id).deleted_at is not None
    assert page.goto(f"/activities/{activity.id}/").status == 404
