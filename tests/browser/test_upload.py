"""The upload page in Chromium: real files through the file input and by drag and drop,
with the upload progress and each deriver's status followed to the end by a real sweeper."""

from __future__ import annotations

import base64
import time

import pytest

from activities import problems
from activities.models import Activity
from tests.browser.conftest import RUN_FIT, shoot, sign_in
from work.models import Attempt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_FILES = ("fit/fitparse__garmin-fenix-5-run.fit", "fit/fitparse__garmin-edge-820-bike.fit")

# Records every status the rows show and every progress value, as they change.
WATCH = """() => {
  window.seen = {statuses: [], progress: []};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('.upload-item')) {
      const s = row.dataset.status, last = window.seen.statuses.at(-1);
      if (s !== last) window.seen.statuses.push(s);
      window.seen.progress.push(row.querySelector('progress').value);
    }
  }).observe(document.getElementById('upload-list'),
             {subtree: true, childList: true, attributes: true, characterData: true});
}"""

DROP = """([files]) => {
  const data = new DataTransfer();
  for (const [name, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], name));
  }
  const zone = document.getElementById('drop-zone');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
  }
}"""


@pytest.mark.corpus
def test_a_fit_file_uploads_with_progress_and_every_deriver_reaches_ready(
        open_page, expect, user, sweeper, corpus_file):
    page = open_page()
    sign_in(page)
    page.goto("/upload/")
    page.evaluate(WATCH)
    data = corpus_file(RUN_FIT)
    page.get_by_label("Choose FIT, GPX or TCX files").set_input_files(
        {"name": "run.fit", "mimeType": "application/octet-stream", "buffer": data})
    row = page.locator(".upload-item")
    expect(row).to_have_attribute("data-status", "ready")
    progress = row.locator(".upload-progress")
    # XMLHttpRequest's upload events count the multipart body: the file and its envelope.
    sent = progress.evaluate("p => [p.value, p.max]")
    assert sent[0] == sent[1] >= len(data)
    # Done: the activity's distance and time, not the internal steps.
    expect(row.locator(".upload-note")).to_have_text("9.01 km · 47:12")
    expect(row.locator(".derivers")).to_be_hidden()
    seen = page.evaluate("window.seen")
    assert seen["statuses"][-1] == "ready"
    assert any(s.startswith("uploading") for s in seen["statuses"])
    assert any(s in ("queued", "processing") for s in seen["statuses"])
    shoot(page, "upload-ready")
    row.get_by_role("link", name="Open the activity").click()
    expect(page.locator("#route-line")).to_have_count(1)
    assert Activity.objects.get().status == "ready"


@pytest.mark.corpus
def test_dropped_files_are_uploaded_and_followed_each_on_its_own(
        open_page, expect, user, sweeper, corpus_file):
    page = open_page()
    sign_in(page)
    page.goto("/upload/")
    files = [[name.split("/")[1], base64.b64encode(corpus_file(name)).decode()]
             for name in SMALL_FILES]
    page.evaluate(DROP, [files])
    rows = page.locator(".upload-item")
    expect(rows).to_have_count(2)
    for name in SMALL_FILES:
        row = rows.filter(has_text=name.split("/")[1])
        expect(row).to_have_attribute("data-status", "ready")
        expect(row.get_by_role("link", name="Open the activity")).to_be_visible()
    assert Activity.objects.filter(status="ready").count() == 2
    shoot(page, "upload-dropped")


@pytest.mark.corpus
def test_a_corrupt_file_says_what_is_wrong_on_both_pages_and_offers_reprocess(
        open_page, expect, user, sweeper, corpus_file):
    page = open_page()
    sign_in(page)
    page.goto("/upload/")
    broken = corpus_file("gpx/gpxpy__Mojstrovka.gpx")[:300]
    page.get_by_label("Choose FIT, GPX or TCX files").set_input_files(
        {"name": "broken.gpx", "mimeType": "application/gpx+xml", "buffer": broken})
    row = page.locator(".upload-item")
    expect(row).to_have_attribute("data-status", "failed")
    activity = Activity.objects.get()
    assert activity.error_message  # the decoder's words, behind "Technical details"
    said = problems.explain(activity.error_code, activity.error_message).sentence
    expect(row.locator(".upload-error")).to_have_text(said)
    shoot(page, "upload-failed")
    row.get_by_role("link", name="Open the activity to reprocess it").click()
    expect(page.locator("#activity-error")).to_have_text(said)
    reprocess = page.get_by_role("button", name="Reprocess")
    expect(reprocess).to_be_visible()
    shoot(page, "activity-failed")
    with page.expect_navigation():
        reprocess.click()
    # Queued again, then failed again by the sweeper: the page follows and reloads itself.
    wait_for(lambda: Attempt.objects.filter(kind="activity", row_id=activity.id).count() == 2,
             what="the second attempt")
    expect(page.locator("#activity-error")).to_have_text(said)
    expect(page.get_by_role("button", name="Reprocess")).to_be_visible()


def wait_for(predicate, *, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_polling_backs_off_from_2_to_30_seconds_and_resets_on_change(open_page):
    page = open_page()
    page.goto("/login/")  # any page: the module is imported from the static files
    delays = page.evaluate("""async () => {
      const {FIRST_DELAY_MS, nextDelay} = await import('/static/activities/poll.js');
      const seen = [FIRST_DELAY_MS];
      for (let i = 0; i < 9; i++) seen.push(nextDelay(seen.at(-1), false));
      seen.push(nextDelay(seen.at(-1), true));
      return seen;
    }""")
    assert delays[:4] == [2000, 3000, 4500, 6750]
    assert delays[-3:] == [30000, 30000, 2000]  # capped at 30 s; a change polls soon again
