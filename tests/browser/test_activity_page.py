"""The activity pages in Chromium: route, charts and playback of a real run; units;
owner-only; phone width and labels."""

from __future__ import annotations

import re
import time

import pytest

from tests import factories
from tests.browser.conftest import PHONE, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.django_db(transaction=True)]

STATE = """() => {
  const marker = document.getElementById('marker');
  const cursor = document.querySelector('.chart .cursor');
  return {at: marker.dataset.at,
          elapsed: document.getElementById('readout-elapsed').textContent,
          distance: document.getElementById('readout-distance').textContent,
          position: document.getElementById('position').valueAsNumber,
          cursor: cursor.getAttribute('x1'),
          playing: document.getElementById('play').getAttribute('aria-pressed')};
}"""


def open_activity(page, expect, activity) -> None:
    page.goto(f"/activities/{activity.id}/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)


def test_activity_page_draws_the_route_and_charts_and_plays_back(open_page, expect, user,
                                                                 ready_run):
    page = open_page()
    sign_in(page)
    open_activity(page, expect, ready_run)
    # On the Leaflet map, without tiles (tests fetch nothing from outside).
    expect(page.get_by_role("region", name="Route of Morning run")).to_be_visible()
    assert len(page.locator("#route-line").get_attribute("d")) > 1000
    assert page.locator("#route-map img.leaflet-tile").count() == 0
    for profile in ("elevation_m", "pace_s_per_km", "hr_bpm"):
        line = page.locator(f".chart[data-profile={profile}] path.line")
        assert len(line.get_attribute("d")) > 1000, profile
    expect(page.locator(".facts")).to_contain_text("9.01 km")
    # The debug timeline is for staff: not offered to its owner.
    expect(page.get_by_role("link", name="Debug timeline")).to_have_count(0)

    before = page.evaluate(STATE)
    assert before["elapsed"] == "0:00"
    page.get_by_label("Speed").select_option("300")
    page.get_by_role("button", name="Play").click()
    _wait_for(page, "document.getElementById('position').valueAsNumber > 40")
    page.get_by_role("button", name="Pause").click()
    played = page.evaluate(STATE)
    assert played["playing"] == "false"
    assert played["at"] != before["at"]
    assert played["elapsed"] != before["elapsed"]
    assert played["cursor"] != before["cursor"]

    # Scrubbing: the range input moves the marker and the readouts, playing or not.
    page.get_by_label("Position").fill("700")
    scrubbed = page.evaluate(STATE)
    assert scrubbed["position"] == 700
    assert scrubbed["elapsed"] not in (before["elapsed"], played["elapsed"])
    assert scrubbed["at"] != played["at"]

    # The charts against time: a time axis, and the cursor follows.
    page.get_by_label("Time").check()
    expect(page.locator(".chart .x-axis").first).to_contain_text("47:1")
    shoot(page, "activity-page")


def test_playback_is_operated_from_the_keyboard(open_page, expect, user, ready_run):
    page = open_page()
    sign_in(page)
    open_activity(page, expect, ready_run)
    slider = page.get_by_label("Position")
    slider.focus()
    page.keyboard.press("End")
    at_end = page.evaluate(STATE)
    assert at_end["elapsed"] == "47:13"
    page.keyboard.press("Home")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    stepped = page.evaluate(STATE)
    assert stepped["position"] == 5 and stepped["elapsed"] == "0:10"
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    _wait_for(page, "document.getElementById('position').valueAsNumber > 8")
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    # The focused control shows it (the :focus-visible outline).
    outline = slider.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    assert "elapsed" in slider.get_attribute("aria-valuetext")


def test_imperial_units_are_used_on_every_page(open_page, expect, user, ready_run):
    page = open_page()
    sign_in(page)
    page.goto("/settings/")
    expect(page.get_by_label("Metric (km, m, km/h)")).to_be_checked()
    page.get_by_label("Imperial (mi, ft, mph)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Imperial")
    page.goto("/activities/")
    expect(page.locator(".totals").first).to_contain_text("5.60 mi")
    expect(page.locator(".totals").first).to_contain_text("210 ft")
    open_activity(page, expect, ready_run)
    expect(page.locator(".facts")).to_contain_text("/mi")
    expect(page.locator("#readout-distance")).to_have_text("0.00 mi")
    expect(page.locator(".chart[data-profile=elevation_m] figcaption")).to_contain_text("ft")


def test_another_user_cannot_open_the_activity(open_page, user, other_user, ready_run):
    page = open_page()
    sign_in(page, "mallory")
    assert page.goto(f"/activities/{ready_run.id}/").status == 404
    assert page.request.get(f"/api/v1/activities/{ready_run.id}/route").status == 404
    assert page.goto(f"/activities/{ready_run.id}/timeline/").status == 404
    page.goto("/activities/")
    assert page.locator(".activity-card").count() == 0


def test_pages_fit_a_phone_without_sideways_scrolling_and_label_their_inputs(
        open_page, expect, user, ready_run, upload):
    upload(factories.gpx()[:200])  # queued (no sweeper here): listed without a preview
    page = open_page(PHONE)
    page.goto("/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    sign_in(page)
    checks = {  # path: (screenshot name, labels its inputs must have)
        "/upload/": ("upload", [re.compile(r"^Choose FIT, GPX or TCX files")]),
        "/activities/": ("activities", []),
        f"/activities/{ready_run.id}/": ("activity", ["Position", "Speed", "Distance", "Time"]),
        "/settings/": ("settings", ["Metric (km, m, km/h)", "Imperial (mi, ft, mph)"]),
    }
    for path, (name, labels) in checks.items():
        page.goto(path)
        if path.startswith("/activities/") and path != "/activities/":
            expect(page.locator("body[data-drawn=true]")).to_have_count(1)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways: {width}"
        for label in labels:
            # Strict: exactly one control carries the label, and it is visible.
            expect(page.get_by_label(label, exact=True)).to_be_visible()
        assert page.locator("main").count() == 1
        assert page.get_by_role("navigation", name="Main").count() == 1
        missing_alt = page.locator("img:not([alt])").count()
        assert missing_alt == 0, f"{path}: images without alt text"
        shoot(page, f"phone-{name}")
    page.goto("/activities/")
    preview = page.get_by_role("img", name="Route of Morning run")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")


def _wait_for(page, expression: str, timeout_s: float = 20) -> None:
    """Poll an expression from outside the page: wait_for_function evaluates it inside,
    which the pages' Content-Security-Policy (no eval) refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)
