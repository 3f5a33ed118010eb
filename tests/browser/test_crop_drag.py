"""The revise page's profile in a real browser: a drag fills the crop's From and To with
the times under the pointer, a click fills Split at, and Preview then shows the crop."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import drag_across, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seconds(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def test_a_drag_fills_the_crop_and_a_click_the_split(chromium, live_server, ready_run):
    context = chromium.new_context(viewport={"width": 1366, "height": 900},
                                   base_url=live_server.url)
    page = context.new_page()
    sign_in(page)
    page.goto(f"/activities/{ready_run.id}/revise/")
    plot = page.locator("#crop-chart .plot svg")
    plot.wait_for(state="visible")
    length = _seconds(page.locator("#crop-end").input_value())
    drag_across(page, plot, 0.25, 0.75)
    start = _seconds(page.locator("#crop-start").input_value())
    end = _seconds(page.locator("#crop-end").input_value())
    assert start == pytest.approx(length * 0.25, abs=length * 0.02 + 2)
    assert end == pytest.approx(length * 0.75, abs=length * 0.02 + 2)
    assert "press Preview" in page.locator("#crop-chart [role=status]").inner_text()

    box = plot.bounding_box()
    plot.click(position={"x": box["width"] * 0.4, "y": box["height"] / 2})
    at = _seconds(page.locator("#split-at").input_value())
    assert at == pytest.approx(length * 0.4, abs=length * 0.02 + 2)

    page.locator("#crop-form button[value=preview-crop]").click()
    preview = page.locator("#revise-preview").inner_text()
    assert re.search(r"in \d", preview) and "Nothing is saved" in preview
    context.close()
