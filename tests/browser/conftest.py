"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live
server, a real sweeper process, ready activities, and screenshots saved to a folder.

The tests skip with the reason when /usr/bin/chromium or the playwright package is
missing, unless CAIRN_REQUIRE_BROWSER=1 (set by .ci/run), when they fail instead.
Browsers are never downloaded (`playwright install` is not used): Debian's is driven.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.corpus import require_corpus

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
#: A run with GPS, heart rate, cadence and elevation: 2,809 points over 47 minutes.
RUN_FIT = "fit/fitparse__activity-small-fenix2-run.fit"
PASSWORDS = {"alice": "correct-horse-9", "mallory": "battery-staple-7"}

_saved: list[Path] = []


def screenshot_dir() -> Path:
    return Path(os.environ.get("CAIRN_SCREENSHOTS") or REPO / "screenshots")


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def chromium():
    reason = _missing()
    if reason:
        if os.environ.get("CAIRN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (CAIRN_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which Django takes
    # for async code and refuses the ORM. The tests' own queries are plain sync code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(chromium, live_server):
    """open_page(viewport=DESKTOP) -> a page in a fresh context (no cookies); uncaught
    script errors fail the test."""
    contexts, errors = [], []

    def make(viewport: dict = DESKTOP):
        context = chromium.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Whatever the Content-Security-Policy blocks is an error too (Chromium reports
        # it on the console, not as a page error).
        page.on("console", lambda message: errors.append(message.text)
                if "Content Security Policy" in message.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"script errors or blocked content on the pages: {errors}"


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    return expect


def sign_in(page, username: str = "alice") -> None:
    """Through the sign-in page, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def drag_across(page, target, start: float, end: float) -> None:
    """Press on `target` at `start` of its width, move through the middle to `end`, and
    release. Each position is the element's own (Playwright scrolls it into view and waits
    for it to hold still first), not page coordinates read once: on a loaded machine the
    page's other charts draw late and move the element between one step and the next."""
    width, height = (target.bounding_box()[k] for k in ("width", "height"))

    def at(fraction: float) -> dict:
        return {"x": width * fraction, "y": height / 2}

    target.hover(position=at(start))
    page.mouse.down()
    target.hover(position=at((start + end) / 2))
    target.hover(position=at(end))
    page.mouse.up()


def shoot(page, name: str) -> Path:
    """A full-page screenshot in the screenshots folder."""
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path


@pytest.fixture
def sweeper(transactional_db, live_server, tmp_path):
    """A real `reconcile --loop` process on the live server's database, stopped after the
    test (before the database is flushed)."""
    log = open(tmp_path / "sweeper.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.3"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=log,
        env=subprocess_env(CAIRN_CLOCK="local"))
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
def corpus_file():
    """corpus_file(relative path) -> its bytes, or skip when the corpus is absent."""
    folder = require_corpus()
    return lambda relative: (folder / relative).read_bytes()


@pytest.fixture
def ready_run(user, corpus_file):
    """Alice's fenix2 run, processed in this process: GPS, heart rate, elevation."""
    from activities import ingest
    from reconciler import sweep

    activity = ingest.accept(corpus_file(RUN_FIT), owner=user, original_name="Morning run.fit",
                             details=ingest.Details(name="Morning run")).activity
    sweep.drain()
    activity.refresh_from_db()
    assert activity.status == "ready", activity.error_message
    return activity


def pytest_terminal_summary(terminalreporter):
    if _saved:
        terminalreporter.write_line(
            f"browser screenshots ({len(_saved)}): {screenshot_dir()}")
