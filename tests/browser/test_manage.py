"""Issue 15's pages in Chromium: rename, the map without tiles, splits and zones, Space
from anywhere, the account page, and the upload page at phone width, following its
unsettled uploads. Screenshots at desktop and phone width (copied to docs/)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import PASSWORDS, PHONE, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width}"


@pytest.mark.corpus
def test_rename_from_the_activity_page(open_page, expect, user, ready_run):
    from activities.models import Activity

    page = open_page()
    sign_in(page)
    page.goto(f"/activities/{ready_run.id}/")
    page.get_by_role("link", name="Edit…").click()
    page.get_by_label("Name").fill("Sunday long run")
    page.get_by_label("Sport").select_option("hiking")
    page.get_by_label("Description").fill("Round the lake, twice.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sunday long run")
    expect(page.locator("#activity-description")).to_have_text("Round the lake, twice.")
    expect(page.locator(".meta .sport")).to_have_text("Hike")  # as people name it
    activity = Activity.objects.get(id=ready_run.id)
    assert (activity.name, activity.user_sport) == ("Sunday long run", "hiking")
    # A bad name is refused on the page, with the reason, and nothing changes.
    page.get_by_role("link", name="Edit…").click()
    page.get_by_label("Name").fill(" ")
    page.get_by_label("Name").evaluate("input => input.removeAttribute('required')")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("name is 1 to 255 characters")
    assert Activity.objects.get(id=ready_run.id).name == "Sunday long run"


@pytest.mark.corpus
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_map_without_tiles_splits_and_heart_rate_zones(open_page, expect, user, ready_run,
                                                           viewport):
    from activities.models import Profile

    Profile.objects.create(user=user, max_hr=190)
    page = open_page(PHONE) if viewport == "phone" else open_page()
    sign_in(page)
    page.goto(f"/activities/{ready_run.id}/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)
    # Leaflet draws the route with tiles off: no tile is requested, the route is there.
    route_map = page.get_by_role("region", name="Route of Morning run")
    expect(route_map).to_be_visible()
    assert "leaflet-container" in route_map.get_attribute("class")
    assert page.locator(".leaflet-tile").count() == 0
    assert page.locator(".leaflet-control-attribution").count() == 0
    expect(page.locator("#route-line")).to_be_visible()
    # 9.01 km: nine kilometre splits (the last 10 m are not a split).
    rows = page.locator("#splits tbody tr")
    expect(rows).to_have_count(9)
    expect(rows.first).to_contain_text("1.00 km")
    expect(rows.first).to_contain_text("/km")
    # The watch's own four laps, with its totals.
    laps = page.locator("#laps tbody tr")
    expect(laps).to_have_count(4)
    expect(laps.first).to_contain_text("0.85 km")
    expect(page.locator("#zones tbody tr")).to_have_count(5)
    expect(page.locator("#zones")).to_contain_text("171+ bpm")
    _no_sideways_scroll(page)
    if viewport == "desktop":
        # Space plays from anywhere on the page, not only from the slider.
        page.locator("#splits-title").click()
        page.keyboard.press(" ")
        expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
        page.keyboard.press(" ")
        expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
        shoot(page, "activity-map-splits")
    else:
        shoot(page, "phone-activity-map-splits")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_account_page(open_page, expect, user, viewport):
    from activities.models import ApiToken, Profile

    page = open_page(PHONE) if viewport == "phone" else open_page()
    sign_in(page)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    page.get_by_label("Imperial (mi, ft, mph)").check()
    page.get_by_label("Maximum heart rate (bpm)").fill("187")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("maximum heart rate 187 bpm")
    assert Profile.objects.get(user=user).max_hr == 187
    # A token is shown once.
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("#new-token").text_content()
    assert token.startswith("cairn_")
    expect(page.locator("#tokens tbody tr")).to_have_count(1)
    _no_sideways_scroll(page)
    shoot(page, "phone-account" if viewport == "phone" else "account")
    assert page.request.get("/api/v1/activities",
                            headers={"Authorization": f"Bearer {token}"}).status == 200
    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert not ApiToken.objects.exists()
    if viewport == "phone":
        return
    # The password: a wrong current one is refused; then the new one signs in.
    page.get_by_label("Old password").fill("wrong")
    page.get_by_label("New password", exact=True).fill("a-better-one-2026")
    page.get_by_label("New password confirmation").fill("a-better-one-2026")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").first).to_contain_text("incorrect")
    page.get_by_label("Old password").fill(PASSWORDS["alice"])
    page.get_by_label("New password", exact=True).fill("a-better-one-2026")
    page.get_by_label("New password confirmation").fill("a-better-one-2026")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    user.refresh_from_db()
    assert user.check_password("a-better-one-2026")


def test_the_upload_page_at_phone_width_shows_each_result_and_follows_new_uploads(
        open_page, expect, user, upload):
    from reconciler import sweep

    ready = upload(factories.gpx(points=400))
    failed = upload(b"<gpx><trk><trkseg></trkseg></trk></gpx>")
    sweep.drain()
    waiting = upload(factories.gpx(points=300))  # queued: no sweeper runs yet
    page = open_page(PHONE)
    sign_in(page)
    page.goto("/upload/")
    _no_sideways_scroll(page)
    row = page.locator(f"#recent-uploads tr[data-upload-id='{failed.upload.id}']")
    reason = row.locator(".result")
    expect(reason).to_be_visible()
    box = reason.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert reason.text_content().strip()
    expect(page.locator(f"#recent-uploads tr[data-upload-id='{ready.upload.id}'] .result")
           ).to_contain_text(" km · ")
    followed = page.locator(f"#recent-uploads tr[data-upload-id='{waiting.upload.id}']")
    expect(followed).to_have_attribute("data-status", "queued")
    shoot(page, "phone-upload")
    # Processed while the page is open: the row says so without a reload.
    sweep.drain()
    expect(followed).to_have_attribute("data-status", "ready")
    expect(followed.locator(".result")).to_contain_text(" km · ")
