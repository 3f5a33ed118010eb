"""Controls only where they work, in Chromium: a file without timestamps gets no playing,
no time axis and no elapsed time; a ride with a trainer's distance and no positions is
drawn against distance with the axis it is drawn against ticked; the start and the
finish of a loop are both seen; a file sent again says so."""

from __future__ import annotations

import re

import pytest

from activities import ingest
from reconciler import sweep
from tests import factories, fitwriter
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ready(user, data: bytes, name: str):
    activity = ingest.accept(data, owner=user, original_name=name).activity
    sweep.drain()
    activity.refresh_from_db()
    assert activity.status == "ready", activity.error_message
    return activity


def test_without_timestamps_there_is_nothing_to_play_and_no_time_axis(open_page, expect, user):
    activity = _ready(user, factories.gpx(points=200, times=False, seed=1), "untimed.gpx")
    page = open_page()
    sign_in(page)
    page.goto(f"/activities/{activity.id}/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)
    expect(page.locator("#playback")).to_be_visible()  # the slider still moves the marker
    expect(page.get_by_role("button", name="Play")).to_be_hidden()
    expect(page.get_by_label("Speed")).to_be_hidden()
    expect(page.locator("#readout-elapsed")).to_be_hidden()
    expect(page.locator("#playback-missing")).to_contain_text("no timestamps")
    expect(page.locator("#chart-axis")).to_be_hidden()
    # Space does not start anything.
    page.locator("body").press(" ")
    assert page.locator("#play").get_attribute("aria-pressed") == "false"


def test_an_indoor_ride_is_drawn_against_time_and_says_so(open_page, expect, user):
    # A trainer ride: time, heart rate and power, no positions and no distance.
    start = 1_768_000_000
    data = fitwriter.activity(
        {"time": [start + i for i in range(600)], "heart_rate": [130 + i % 20 for i in range(600)],
         "power": [200 + i % 50 for i in range(600)]},
        sessions=[fitwriter.Totals(sport="cycling", sub_sport="indoor_cycling",
                                   start_time=start, elapsed_s=599.0, timer_s=599.0)])
    activity = _ready(user, data, "trainer.fit")
    page = open_page()
    sign_in(page)
    page.goto(f"/activities/{activity.id}/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)
    expect(page.locator(".chart[data-profile=power_w]")).to_be_visible()
    assert page.locator("#chart-axis input[value=time]").is_checked()
    assert not page.locator("#chart-axis input[value=distance]").is_checked()
    expect(page.locator("#chart-axis")).to_be_hidden()  # nothing to switch to


def test_the_start_is_seen_where_a_loop_ends(open_page, expect, user):
    activity = _ready(user, factories.gpx(points=200, seed=2), "ride.gpx")
    page = open_page()
    sign_in(page)
    page.goto(f"/activities/{activity.id}/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)
    # Drawn after (above) the finish and the playback marker, and smaller than both.
    order = page.evaluate("""() => [...document.querySelectorAll(
        '#route .finish, #route .marker, #route .start')].map(e => e.classList.contains('start')
        ? 'start' : e.classList.contains('finish') ? 'finish' : 'marker')""")
    assert order == ["finish", "marker", "start"]
    sizes = page.evaluate("""() => ['finish', 'marker', 'start'].map(c =>
        document.querySelector('#route .' + c).getBoundingClientRect().width)""")
    assert sizes[0] > sizes[1] > sizes[2] > 0


def test_a_file_sent_again_says_already_uploaded(open_page, expect, user):
    data = factories.gpx(points=100, seed=3)
    first = _ready(user, data, "again.gpx")
    page = open_page()
    sign_in(page)
    page.goto("/upload/")
    page.get_by_label("Choose FIT, GPX or TCX files").set_input_files(
        {"name": "again.gpx", "mimeType": "application/gpx+xml", "buffer": data})
    row = page.locator(".upload-item")
    expect(row.locator(".upload-note")).to_have_text("Already uploaded —")
    link = row.get_by_role("link", name="open it")
    expect(link).to_have_attribute("href", re.compile(rf"/activities/{first.id}/$"))
