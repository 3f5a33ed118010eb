"""The public profile's heatmap: drawn from the public copies' cut routes (never the
tracks) of public, counted activities; never served from an old privacy version (503
until drawn again); a heatmap drawn before a change cannot be stored; 404 for a private
or unknown profile."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity
from core import heatmap
from reconciler import sweep
from records.models import Book
from sharing import heat as heat_code
from sharing import kind as sharing_kinds
from sharing import served
from sharing.models import PublicHeat
from tests import factories
from tests.conftest import NOW
from work import clock, kinds, leases, run
from work.outcomes import Done

pytestmark = pytest.mark.django_db

LAT0, LON0 = 46.0, 14.5
#: factories.gpx heads east 25 m a point.
M_PER_DEG_LON = 111_195.0 * np.cos(np.radians(LAT0))
#: A zone around the middle of a 200-point ride.
MIDDLE_LON = LON0 + 100 * 25 / M_PER_DEG_LON
ZONE = {"lat": LAT0, "lon": MIDDLE_LON, "radius_m": 300}


def rides(upload, *starts: tuple[float, float]) -> list[Activity]:
    with freeze_time(NOW):
        made = [upload(factories.gpx(points=200, lat0=lat, lon0=lon)).activity
                for lat, lon in starts]
        sweep.drain()
    return made


def share(api, activity, visibility: str) -> None:
    answer = api.patch(f"/api/v1/activities/{activity.id}", {"visibility": visibility},
                       content_type="application/json")
    assert answer.status_code == 200, answer.content


def alpha(png: bytes) -> np.ndarray:
    """The alpha channel of a PNG as core.heatmap.encode_png writes it (one IDAT, filter
    byte 0 on every row)."""
    assert png.startswith(b"\x89PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    at = png.index(b"IDAT")
    size = int.from_bytes(png[at - 4:at], "big")
    rows = np.frombuffer(zlib.decompress(png[at + 4:at + 4 + size]), dtype=np.uint8)
    return rows.reshape(height, 1 + width * 4)[:, 1:].reshape(height, width, 4)[..., 3]


def zone_pixels(heat: heatmap.Heat, png: bytes) -> np.ndarray:
    """The PNG's alpha on the ride's line within 200 m of the zone's centre."""
    grid = heat.ordered()[0].grid
    x0, y0, x1, y1 = grid.frame
    height, width = grid.counts.shape
    lons = MIDDLE_LON + np.linspace(-200, 200, 41) / M_PER_DEG_LON
    x, y = heatmap.mercator(np.full(len(lons), LAT0), lons)
    cols = ((x - x0) / (x1 - x0) * width).astype(int)
    row = int((y[0] - y0) / (y1 - y0) * height)
    return alpha(png)[row - 2:row + 3, cols.min():cols.max() + 1]


def test_the_public_heatmap_is_drawn_from_cut_routes_and_never_served_old(api, upload, user):
    (ride,) = rides(upload, (LAT0, LON0))
    share(api, ride, "public")
    sweep.drain()
    anonymous = Client()
    before = anonymous.get(f"/u/{user.username}/heatmap.png")
    assert before.status_code == 200 and before["Content-Type"] == "image/png"
    assert before["Cache-Control"] == "no-store"
    page = anonymous.get(f"/u/{user.username}/")
    assert b'id="public-heatmap"' in page.content
    assert f"/u/{user.username}/heatmap.png?region=0".encode() in page.content

    assert api.post("/api/v1/privacy-zones", ZONE,
                    content_type="application/json").status_code == 201
    # At once, before any rebuild: the heatmap drawn without the zone is not served.
    waiting = anonymous.get(f"/u/{user.username}/heatmap.png")
    assert waiting.status_code == 503 and waiting["Retry-After"]
    assert waiting.json()["error"]["code"] == "BeingUpdated"
    page = anonymous.get(f"/u/{user.username}/")
    assert page.status_code == 200
    assert b"public-heatmap-updating" in page.content and b"heatmap.png" not in page.content

    sweep.drain()
    after = anonymous.get(f"/u/{user.username}/heatmap.png")
    assert after.status_code == 200
    current, public_heat, row = served.heat(user.id)
    # One copy, its route cut in two by the zone (each part drawn on its own, so that no
    # line crosses the zone).
    assert current and row.routes == 1 and public_heat.ordered()[0].routes == 2
    public = zone_pixels(public_heat, after.content)
    assert public.size and not public.any()  # nothing inside the zone
    # The owner's own heatmap (the tracks' routes) goes through it.
    own = api.get("/api/v1/heatmap.png?region=0")
    assert own.status_code == 200
    own_heat = heatmap.Heat.loads(bytes(Book.objects.get(user=user).heat))
    assert zone_pixels(own_heat, own.content).any()
    # Outside the zone the public heatmap still shows the ride.
    assert alpha(after.content).any()


def test_a_heatmap_drawn_before_a_change_stores_nothing(api, upload, user):
    (ride,) = rides(upload, (LAT0, LON0))
    share(api, ride, "public")
    sweep.drain()
    kind = kinds.get("public_heat")
    row = PublicHeat.objects.get(user=user)
    PublicHeat.objects.filter(id=row.id).update(needs_work=True, due_at=clock.now())
    (lease,) = leases.claim(kind, limit=1, now=clock.now(), owner="slow", trigger="sweep")
    built = heat_code.build(user.id)  # drawn with no zone
    assert built.routes == 1
    assert api.post("/api/v1/privacy-zones", ZONE,
                    content_type="application/json").status_code == 201
    assert heat_code.store(lease, built) is False  # refused by the privacy fence
    run.settle(kind, lease, Done(detail={"stored": False}))
    stale = PublicHeat.objects.get(id=row.id)
    assert stale.needs_work and stale.lease_token is None
    assert stale.privacy_version < user.privacy.version
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 503
    sweep.drain()
    shown = Client().get(f"/u/{user.username}/heatmap.png")
    assert shown.status_code == 200
    current, public_heat, _ = served.heat(user.id)
    assert current and not zone_pixels(public_heat, shown.content).any()


def test_only_public_counted_activities_are_in_it(api, upload, user, other_user):
    # Far apart: each would be a region of its own.
    public, unlisted, private, merged = rides(
        upload, (LAT0, LON0), (50.0, 5.0), (40.0, -3.0), (55.0, 20.0))
    share(api, public, "public")
    share(api, unlisted, "unlisted")
    share(api, merged, "public")
    Activity.objects.filter(id=merged.id).update(merged_into=public, merged_at=NOW)
    share(api, private, "public")
    share(api, private, "private")
    sweep.drain()
    assert len(heatmap.Heat.loads(bytes(Book.objects.get(user=user).heat)).regions) >= 3
    current, public_heat, _ = served.heat(user.id)
    assert current and len(public_heat.regions) == 1 and public_heat.regions[0].routes == 1
    bounds = public_heat.regions[0].bounds
    assert bounds[0][0] <= LAT0 <= bounds[1][0] and bounds[0][1] <= LON0 <= bounds[1][1]
    anonymous = Client()
    assert anonymous.get(f"/u/{user.username}/heatmap.png?region=0").status_code == 200
    assert anonymous.get(f"/u/{user.username}/heatmap.png?region=1").status_code == 404
    assert anonymous.get(f"/u/{user.username}/heatmap.png?region=x").status_code == 400
    # Unlisted only: a private profile, no heatmap.
    share(api, public, "unlisted")
    sweep.drain()
    assert anonymous.get(f"/u/{user.username}/heatmap.png").status_code == 404
    assert b"heatmap" not in anonymous.get(f"/u/{user.username}/").content
    assert anonymous.get(f"/u/{other_user.username}/heatmap.png").status_code == 404
    assert anonymous.get("/u/nobody-here/heatmap.png").status_code == 404


def test_an_owner_public_before_heatmaps_gets_one(api, upload, user):
    (ride,) = rides(upload, (LAT0, LON0))
    share(api, ride, "public")
    sweep.drain()
    PublicHeat.objects.filter(user=user).delete()  # as before this kind existed
    page = Client().get(f"/u/{user.username}/")
    assert b"public-heatmap-updating" in page.content
    # A deploy's new process looks for missing heatmaps (the look rests a minute once it
    # found none), makes this one and draws it.
    sharing_kinds.HEAT_SEEN.reset()
    sweep.drain()
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 200


def test_a_merge_takes_the_merged_activity_out(api, upload, user):
    from duplicates import merging

    kept, other = rides(upload, (LAT0, LON0), (50.0, 5.0))
    share(api, kept, "public")
    share(api, other, "public")
    sweep.drain()
    assert len(served.heat(user.id)[1].regions) == 2
    Activity.objects.filter(id=other.id).update(duplicate_of=kept)
    other.refresh_from_db()
    merging.merge(other, primary_id=kept.id, now=clock.now())
    sweep.drain()
    current, public_heat, row = served.heat(user.id)
    assert current and row.routes == 1 and len(public_heat.regions) == 1


def test_a_public_activity_withdrawn_leaves_the_heatmap_at_once(api, upload, user):
    kept, withdrawn = rides(upload, (LAT0, LON0), (50.0, 5.0))
    share(api, kept, "public")
    share(api, withdrawn, "public")
    sweep.drain()
    assert len(served.heat(user.id)[1].regions) == 2
    # A slow worker draws the heatmap with both, then the second is made private.
    kind = kinds.get("public_heat")
    row = PublicHeat.objects.get(user=user)
    PublicHeat.objects.filter(id=row.id).update(needs_work=True, due_at=clock.now())
    (lease,) = leases.claim(kind, limit=1, now=clock.now(), owner="slow", trigger="sweep")
    built = heat_code.build(user.id)
    assert built.routes == 2
    share(api, withdrawn, "private")
    # With the change's commit, the heatmap that draws it is served no more ...
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 503
    # ... and the drawing made before it cannot be stored.
    assert heat_code.store(lease, built) is False
    run.settle(kind, lease, Done(detail={"stored": False}))
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 503
    sweep.drain()
    current, public_heat, row = served.heat(user.id)
    assert current and row.routes == 1 and len(public_heat.regions) == 1
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 200
    # Deleting the last public one: no heatmap is served from the moment it commits.
    from activities import deletion

    share(api, withdrawn, "public")
    sweep.drain()
    assert served.heat(user.id)[1] is not None and len(served.heat(user.id)[1].regions) == 2
    deletion.request(Activity.objects.filter(id=withdrawn.id), now=clock.now())
    assert Client().get(f"/u/{user.username}/heatmap.png").status_code == 503
    sweep.drain()
    assert len(served.heat(user.id)[1].regions) == 1
