"""The upload page sends a large file resumably (tus-js-client): the connection is cut
once mid-upload, the page resumes where the server says it stopped, and the file becomes
an activity like any other."""

from __future__ import annotations

import pytest

from activities.models import Activity
from tests import factories
from tests.browser.conftest import DESKTOP, shoot, sign_in
from tests.cutproxy import CutProxy
from transfers.models import UploadSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every progress value and status the row shows, as they change.
WATCH = """() => {
  window.seen = {statuses: [], progress: [], notes: []};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('.upload-item')) {
      const s = row.dataset.status, last = window.seen.statuses.at(-1);
      if (s !== last) window.seen.statuses.push(s);
      window.seen.progress.push(row.querySelector('progress').value);
      const note = row.querySelector('.upload-note').textContent;
      if (note && note !== window.seen.notes.at(-1)) window.seen.notes.push(note);
    }
  }).observe(document.getElementById('upload-list'),
             {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def test_a_large_file_survives_a_cut_connection(chromium, live_server, settings, user,
                                                sweeper, expect):
    settings.CAIRN_TUS_THRESHOLD_MB = 1
    data = factories.gpx(points=30_000)
    assert len(data) > 2 * 2**20  # three chunks of 1 MB
    proxy = CutProxy(int(live_server.url.rsplit(":", 1)[1]))
    context = chromium.new_context(viewport=DESKTOP, base_url=proxy.url)
    context.set_default_timeout(20_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page)
        page.goto("/upload/")
        page.evaluate(WATCH)
        proxy.cut_after(int(1.5 * 2**20), down_for=3)  # in the second chunk
        page.get_by_label("Choose FIT, GPX or TCX files").set_input_files(
            {"name": "long-ride.gpx", "mimeType": "application/gpx+xml", "buffer": data})
        row = page.locator(".upload-item")
        expect(row).to_have_attribute("data-status", "ready", timeout=60_000)
        seen = page.evaluate("window.seen")
        shoot(page, "upload-resumed")
    finally:
        context.close()
        proxy.close()
    assert proxy.cuts == 1
    assert not errors, errors
    assert "failed" not in seen["statuses"]
    assert any("resuming" in note for note in seen["notes"])
    # The bar went on from where the server had the bytes: once past the first chunk
    # (stored before the cut), it never fell back below it.
    sent = seen["progress"]
    past = next(n for n, value in enumerate(sent) if value > 2**20)
    assert min(sent[past:]) > 2**20 and max(sent) == len(data)
    session = UploadSession.objects.get()
    assert session.via == "tus" and session.status == "ingested"
    assert Activity.objects.get(owner=user).size_bytes == len(data)
