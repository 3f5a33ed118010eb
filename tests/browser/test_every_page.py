"""Every page of the URL conf, signed in with data (a ready run with laps, a failed upload,
an archive, records and totals, a rollout, an invitation), at 1366 px and at 390 px: no
element is wider than the viewport or scrolls sideways (a few wide operator tables may
scroll inside themselves), the navigation is one row, and axe-core finds no serious or
critical violation.

axe-core is vendored (tests/browser/vendor/axe-core, from the npm registry) and evaluated
through the DevTools protocol, which the pages' Content-Security-Policy does not govern.
With CAIRN_SCREENSHOTS set, a screenshot of each page is saved there too."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests import factories
from tests.browser.conftest import shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.corpus,
              pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 390, "height": 844}

#: Routes that are not pages a person opens: POST-only actions, machine endpoints, and
#: Django's admin (its own templates).
NOT_PAGES = {"metrics", "healthz", "readyz", "logout", "reprocess", "rollout-action",
             "activity-restore",
             "threshold-add",
             "settings-password", "settings-token-create", "settings-token-revoke",
             "settings-email", "settings-sign-out-everywhere", "home", "export-delete",
             "keep-both", "merge", "unmerge", "segment-rename", "segment-from-activity",
             "privacy-zone-delete", "public-heatmap"}
#: Operator pages whose wide tables may scroll inside their own box on a phone.
MAY_SCROLL = {"drift-page", "rollouts-page", "rollout-activity", "timeline",
              "records-timeline"}
#: Pages seen signed out.
SIGNED_OUT = {"login", "signup", "signup-invited", "password_reset", "password_reset_done",
              "password_reset_confirm", "password_reset_complete"}

#: Elements wider than the viewport (outside a box that clips or scrolls them), and boxes
#: that scroll sideways.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const held = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const wide = [], scrolling = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || box.right <= 0) continue;  // the parked skip link
    if (!el.checkVisibility({visibilityProperty: true})) continue;  // a closed menu
    if ((box.right > width + 1 || box.left < -1) && !held(el)) wide.push(name(el));
    const style = getComputedStyle(el).overflowX;
    if ((style === 'auto' || style === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      scrolling.push(name(el));
    }
  }
  const rows = new Set([...document.querySelectorAll('header.site nav > ul > li')]
    .map(li => Math.round(li.getBoundingClientRect().top)));
  return {page: document.documentElement.scrollWidth, width, wide, scrolling,
          navRows: rows.size};
}"""


def page_routes() -> dict[str, str]:
    """name -> route of every page in the URL conf (not the API, not the admin)."""
    out = {}

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not route.startswith("admin/"):
                    walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and not route.startswith("api/"):
                out[pattern.name] = route

    walk(get_resolver().url_patterns)
    return {name: route for name, route in out.items() if name not in NOT_PAGES}


@pytest.fixture
def data(user, ready_run, upload, monkeypatch, settings):
    """Alice (staff, so the staff pages and links are there too) with everything a page
    can show."""
    from datetime import UTC, date, datetime, timedelta

    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from accounts.models import Invitation
    from activities import edits, ingest, tokens
    from activities.models import Gear
    from reconciler import sweep
    from reconciler.models import Rollout
    from tests.bumps import bump, longer_summary
    from tests.training import ride_fit
    from training.models import Threshold

    settings.CAIRN_SIGNUP = "open"
    user.is_staff, user.email = True, "alice@example.org"
    user.save()
    tokens.create(user)
    # Thresholds and gear first, so that the training book has loads, days and totals.
    for kind, value in (("ftp", 250), ("lthr", 165), ("hr_rest", 50), ("hr_max", 190)):
        Threshold.objects.create(user=user, kind=kind, value=value,
                                 effective=date(2000, 1, 1), created_at=ready_run.created_at)
    gear = Gear.objects.create(owner=user, name="Trail shoes", kind="shoes",
                               sports=["running"], retire_at_km=1,
                               created_at=ready_run.created_at)
    Gear.objects.create(owner=user, name="Old bike", kind="bike", retired=True,
                        created_at=ready_run.created_at)
    edits.apply(ready_run, {"gear_id": gear.id})
    # A ride with power two days ago: the fitness chart's load and both power curves.
    ingest.accept(ride_fit(datetime.now(UTC) - timedelta(days=2), watts=220), owner=user,
                  original_name="power.fit")
    ride = upload(factories.gpx(points=200)).activity
    failed = upload(b"<gpx><trk><trkseg></trkseg></trk></gpx>")
    archive = ingest.accept_file(io.BytesIO(factories.archive([
        ("one.gpx", factories.gpx()), ("two.gpx", factories.gpx()),
        ("notes.txt", b"not an activity")])), owner=user, original_name="export.zip")
    sweep.drain()
    bump(monkeypatch, "summary", longer_summary)
    sweep.drain()
    # A segment on a stretch of the ride: its page, the list, the ride's efforts panel.
    from segments import editing
    from work import clock
    given, shape = editing.parse({"name": "The climb", "activity_id": ride.id,
                                  "start_index": 20, "end_index": 150}, owner_id=user.id)
    segment = editing.create(user, given, shape, now=clock.now())
    # The export page with one zip ready and one being built.
    from exports import requests as exports
    exports.start(user, contents="both", fmt="gpx")
    sweep.drain()
    exports.start(user, contents="originals", fmt="gpx")
    # The ride shared, with a privacy zone: its page and its owner's public profile.
    edits.apply(ride, {"visibility": "public"})
    from core import privacy
    from sharing import changes
    changes.add_zone(user.id, privacy.Zone(46.0, 14.5, 300), now=clock.now())
    sweep.drain()
    ride.refresh_from_db()
    rollout = Rollout.objects.order_by("-id").first()
    _, token = Invitation.make(by=user, note="for Bob", now=ready_run.created_at)
    return {
        "activity_id": ready_run.id, "ride": ride.id, "failed": failed.activity.id,
        "upload_id": archive.upload.id, "file_upload": failed.upload.id,
        "rollout_id": rollout.id if rollout else None, "token": token, "gear_id": gear.id,
        "segment_id": segment.id, "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "reset_token": default_token_generator.make_token(user),
        "share_id": ride.share_id, "username": user.username,
    }


def urls_for(name: str, route: str, data: dict) -> list[str]:
    """The concrete URLs a route is visited at (more than one where a page has states)."""
    # The ride holds an effort on the segment: the activity page's segments panel.
    extra = {"activity-page": [f"/activities/{data['failed']}/", f"/activities/{data['ride']}/"],
             "upload-status": [f"/uploads/{data['file_upload']}/"]}
    # The rollout's sample holds the ride; a reset link's token is not an invitation's.
    values = {**data, **({"activity_id": data["ride"]} if name == "rollout-activity" else {}),
              **({"token": data["reset_token"]} if name == "password_reset_confirm" else {}),
              **({"name": "uploads-stuck-queued.md"} if name == "runbook" else {})}
    url = "/" + route
    for key in re.findall(r"<(?:\w+:)?(\w+)>", route):
        url = re.sub(rf"<(?:\w+:)?{key}>", str(values[key]), url)
    return [url, *extra.get(name, [])]


def check(page, url: str, axe: str, *, may_scroll: bool) -> list[str]:
    """What is wrong with the page at url."""
    problems = []
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    if response.status >= 500:
        problems.append(f"answered {response.status}")
    found = page.evaluate(OVERFLOW_JS)
    if found["page"] > found["width"]:
        problems.append(f"the page is {found['page']} px wide in {found['width']}")
    if found["navRows"] > 1:
        problems.append(f"the navigation takes {found['navRows']} rows")
    if found["wide"]:
        problems.append(f"wider than the viewport: {found['wide'][:8]}")
    if found["scrolling"] and not may_scroll:
        problems.append(f"scrolls sideways: {found['scrolling'][:8]}")
    page.evaluate(axe)
    violations = page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    problems += [f"axe {v}" for v in violations]
    return problems


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366", "390"])
def test_every_page_fits_and_passes_axe(chromium, live_server, data, viewport):
    routes = page_routes()
    # A page added to the URL conf is visited here, or this list says why not.
    assert set(routes) >= {"activities-page", "activity-page", "upload-page", "upload-status",
                           "records-page", "totals-page", "settings-page", "login",
                           "fitness-page", "gear-page", "gear-detail", "gear-delete",
                           "signup", "invitations-page", "password_reset"}
    axe = AXE.read_text()
    shots = os.environ.get("CAIRN_SCREENSHOTS")
    report = {}
    for signed_in in (True, False):
        context = chromium.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(20_000)
        page = context.new_page()
        if signed_in:
            sign_in(page)
        names = [n for n in routes if (n in SIGNED_OUT) != signed_in]
        if signed_in:
            names.append("not-found")
        for name in names:
            urls = (["/no-such-page/"] if name == "not-found"
                    else urls_for(name, routes[name], data))
            for url in urls:
                problems = check(page, url, axe, may_scroll=name in MAY_SCROLL)
                if problems:
                    report[url] = problems
                if shots:
                    label = re.sub(r"\W+", "-", url.strip("/")) or "home"
                    shoot(page, f"{viewport['width']}-{label}")
        context.close()
    assert not report, "\n".join(f"{url}: {p}" for url, p in report.items())


def test_the_overflow_check_catches_a_wide_element(chromium, live_server, user):
    """The check above can fail: a table pushed wider than a phone is reported."""
    context = chromium.new_context(viewport=NARROW, base_url=live_server.url)
    page = context.new_page()
    sign_in(page)
    page.goto("/settings/")
    page.evaluate("""() => {
      const div = document.createElement('div');
      div.style.width = '600px'; div.textContent = 'too wide';
      document.querySelector('main').append(div);
    }""")
    found = page.evaluate(OVERFLOW_JS)
    context.close()
    assert "div" in found["wide"] and found["page"] > found["width"]
