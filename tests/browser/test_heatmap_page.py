"""The heatmap page in Chromium: the busiest region's PNG laid over a Leaflet map (no
tiles in the tests: a plain background, a scale), the other region a link away."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.browser.conftest import PHONE, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.corpus,
              pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_heatmap_over_the_map_region_by_region(open_page, expect, user, ready_run, upload,
                                               viewport):
    from reconciler import sweep

    for n in range(2):  # two rides near Ljubljana: the busiest region
        upload(factories.gpx(points=120, lat0=46.05 + n * 0.002, lon0=14.5))
    sweep.drain()
    page = open_page(PHONE) if viewport == "phone" else open_page()
    sign_in(page)
    page.goto("/heatmap/")
    expect(page.locator("body[data-drawn=true]")).to_have_count(1)
    heat_map = page.get_by_role("region", name="Heatmap around 46.1° N, 14.5° E")
    expect(heat_map).to_be_visible()
    assert "no-tiles" in heat_map.get_attribute("class")
    assert page.locator(".leaflet-tile").count() == 0
    overlay = page.locator("img.heat-layer")
    expect(overlay).to_have_count(1)
    assert "region=0" in overlay.get_attribute("src")
    # The image really loaded, and the map is framed on it: the overlay is on screen.
    assert overlay.evaluate("img => img.complete && img.naturalWidth > 1")
    box, frame = overlay.bounding_box(), heat_map.bounding_box()
    assert box["x"] < frame["x"] + frame["width"] and box["x"] + box["width"] > frame["x"]
    expect(page.locator(".leaflet-control-scale-line")).to_contain_text("m")
    expect(page.locator(".legend-text")).to_contain_text("through the same spot")
    # The run in Norway is the other region.
    page.get_by_role("link", name="around 59.0° N, 5.7° E (1 route)").click()
    expect(page.locator("img.heat-layer")).to_have_attribute("src", re.compile(r"region=1\b"))
    expect(page.get_by_role("region", name="Heatmap around 59.0° N, 5.7° E")).to_be_visible()
