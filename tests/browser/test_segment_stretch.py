"""The activity page's "save a stretch as a segment" in a real browser: a drag across the
profile fills From and To with the distances under the pointer (as the charts measure
them), and saving opens the new segment's page with its map."""

from __future__ import annotations

import numpy as np
import pytest

from core import distance
from tests.browser.conftest import drag_across, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.django_db(transaction=True)]


def test_a_drag_fills_the_stretch_and_saving_opens_the_segment(chromium, live_server,
                                                               ready_run):
    from segments import matching
    from segments.models import Segment

    [(_, track)] = list(matching.tracks_of([ready_run.id]))
    length_km = float(np.nanmax(distance.along_m(track))) / 1000
    context = chromium.new_context(viewport={"width": 1366, "height": 900},
                                   base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page)
    page.goto(f"/activities/{ready_run.id}/")
    page.locator("#save-segment summary").click()
    plot = page.locator("#segment-chart .plot svg")
    plot.wait_for(state="visible")
    drag_across(page, plot, 0.25, 0.75)
    start = float(page.locator("#segment-start").input_value())
    end = float(page.locator("#segment-end").input_value())
    assert start == pytest.approx(length_km * 0.25, abs=length_km * 0.02 + 0.01)
    assert end == pytest.approx(length_km * 0.75, abs=length_km * 0.02 + 0.01)
    assert "Save segment" in page.locator("#segment-chart [role=status]").inner_text()

    page.locator("#segment-name").fill("Middle half")
    page.locator("#save-segment button[type=submit]").click()
    page.wait_for_url("**/segments/*/")
    assert page.locator("h1").inner_text() == "Middle half"
    page.locator("#route-map").wait_for(state="visible")
    made = Segment.objects.get()
    assert made.distance_m / 1000 == pytest.approx(end - start, rel=0.1)
    context.close()
    assert not errors
