"""Benchmark c: a `summary` bump over N processed activities rebuilt by two workers,
beside its floor (the same backfill of a deriver that does nothing): activities per
second, and how soon a fresh upload is ready meanwhile."""

from __future__ import annotations

import threading
import time

from bench import noop
from bench.harness import (
    Figure,
    Site,
    fill_processed,
    percentile,
    post_file,
    upload_status,
    wait_until,
)
from core import derivers
from tests import factories
from tests.ports import free_port

#: Every process of this benchmark (web, sweepers) knows the no-op deriver.
SETTINGS = "bench.noop_settings"
BATCH = 50


def run(*, quick: bool) -> list[Figure]:
    size = 3_000 if quick else 100_000
    site = Site("backfill", extra_env={"DJANGO_SETTINGS_MODULE": SETTINGS})
    try:
        _fill(site, size)
        port = free_port()
        site.web(port, workers=1, settings=SETTINGS)
        # Untimed: the owner's records and training books, which a site that processed
        # these activities has built, are built here, by a floor's backfill; then each
        # phase below does its bump's work alone.
        _backfill(site, noop.NOOP.name, size)
        rates, floors, fresh, rewritten = [], [], [], []
        for _ in range(1 if quick else 2):
            # The floor first: the same activities, sweepers and batch, nothing derived.
            floors.append(_backfill(site, noop.NOOP.name, size))
            uploader = threading.Thread(target=lambda: fresh.extend(
                _fresh_uploads(site, port, count=3 if quick else 5)))
            before = _summaries_written(site)
            rates.append(_backfill(site, "summary", size, meanwhile=uploader))
            # The same code at a new version: every summary comes out byte-identical, and
            # none is written again (only its version).
            rewritten.append(_summaries_written(site, since=before))
    finally:
        site.stop()
    ratios = tuple(rate / floor for rate, floor in zip(rates, floors, strict=True))
    return [
        Figure(f"floor: backfill of a no-op deriver's bump over {size:,} activities, "
               "2 workers", "activities/s", tuple(floors)),
        Figure(f"backfill of a summary bump over {size:,} activities, 2 workers",
               "activities/s", tuple(rates), target="≥ 1,000/s", met=min(rates) >= 1000),
        Figure("backfill over the floor's rate", "×", ratios, target="≥ 0.7×",
               met=min(ratios) >= 0.7),
        Figure("fresh upload ready during the backfill (upload to ready)", "s", tuple(fresh),
               target="≤ 2 s", met=max(fresh) <= 2),
        Figure("fresh upload ready during the backfill, p95", "s",
               (percentile(fresh, 95),)),
        Figure("summaries whose bytes were written again by the bump (the same bytes)",
               "rows", tuple(rewritten), target="0", met=max(rewritten) == 0),
    ]


def _summaries_written(site: Site, *, since=None):
    """The latest time a stored summary's data was written; with `since`, how many of the
    filled activities' summaries were written after it (a fresh upload's are not counted:
    they are new)."""
    if since is None:
        return site.query("SELECT max(updated_at) FROM activities_derived "
                          "WHERE deriver = 'summary'")[0][0]
    return site.query("SELECT count(*) FROM activities_derived AS d "
                      "JOIN activities_activity AS a ON a.id = d.activity_id "
                      "WHERE d.deriver = 'summary' AND d.updated_at > %s "
                      "AND a.created_at <= %s", [since, since])[0][0]


def _backfill(site: Site, name: str, size: int, *,
              meanwhile: threading.Thread | None = None) -> float:
    """Bump `name`, start two sweepers, wait until none of its outputs is old: the rate."""
    bump(site, name)
    started = time.monotonic()
    site.sweepers(2, batch=BATCH)
    if meanwhile is not None:
        time.sleep(0.5)
        meanwhile.start()
    wait_until(lambda: behind(site, name) == 0, what=f"backfill of {name}", timeout=3600,
               every=0.2)
    rate = size / (time.monotonic() - started)
    if meanwhile is not None:
        meanwhile.join()
    _stop_sweepers(site)
    return rate


#: The outputs the fill stores bytes of, in dependency order: the track and summary the
#: benchmark reads and writes, and what the records book reads besides (records.inputs).
#: The others are current and empty: nothing in the benchmark reads them.
STORED = ("track", "summary", "best_efforts", "route")


def _fill(site, size: int) -> None:
    """`size` processed one-hour activities, as a site that has processed them all has
    them: current outputs (of STORED real ones, of one recording), the no-op deriver's
    (empty) output, the owner's duplicates check and each activity's segment match (the
    books are built by run's first, untimed, backfill). So a phase of the benchmark does
    the bump's work and no catching up of other kinds' (which made the floor slower than
    the summary before: BENCHMARKS.md). `site` needs only `query`."""
    outputs: dict[str, object] = {}
    for deriver in (derivers.BY_NAME[name] for name in STORED):  # in dependency order
        inputs = ([factories.fit(points=3600, seed=11)] if deriver.name == "track"
                  else [outputs[name] for name in deriver.needs])
        outputs[deriver.name] = deriver.derive(*inputs)
    fill_processed(site, size, data={name: derivers.BY_NAME[name].codec.dumps(outputs[name])
                                     for name in STORED})
    _checked_for_duplicates(site)
    _matched_against_segments(site)
    if noop.NOOP.name in derivers.BY_NAME:
        return  # registered in this process: filled with the others
    empty = noop.NOOP.codec.dumps(noop.NOOP.derive())
    site.query(
        "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
        "digest, error_code, error_message, duration_ms, updated_at) SELECT id, %s, %s, "
        "'ready', %s, %s, '', '', 0, now() FROM activities_activity",
        [noop.NOOP.name, noop.NOOP.version, empty, derivers.digest(empty)])
    site.query(
        "INSERT INTO reconciler_rollout (deriver, version, state, keep_previous, cursor, "
        "flagged, window_count, started_at, finished_at) "
        "SELECT %s, %s, 'finished', false, max(id), 0, 0, now(), now() "
        "FROM activities_activity", [noop.NOOP.name, noop.NOOP.version])
    site.query("ANALYZE")


def _checked_for_duplicates(site) -> None:
    """The user's duplicates check current, each activity's footprint stored unplaced.

    Every filled activity is the same recording at the same hour, which the check would
    pair with every other (100,000² comparisons) the first time a fresh upload flags it;
    a real user's activities do not overlap. Unplaced footprints (no times: they pair
    with nothing) of the stored track's digest are current, so the check a fresh upload
    asks for compares the fresh uploads alone, as it would among a real user's."""
    from duplicates.check import VERSION

    site.query(
        "INSERT INTO duplicates_check (needs_work, generation, priority, due_at, "
        "lease_owner, attempts, trace_parent, version, status, error_code, error_message, "
        "built_at, whole, pairs, user_id) SELECT false, 1, 0, now(), '', 0, '', %s, "
        "'ready', '', '', now(), false, '[]', id FROM auth_user WHERE username = 'bench'",
        [VERSION])
    site.query(
        "INSERT INTO duplicates_footprint (activity_id, track_digest, start, \"end\", "
        "streams, points, data, user_id) SELECT a.id, d.digest, 0, 0, '[\"gps\"]', 0, '', "
        "a.owner_id FROM activities_activity AS a JOIN activities_derived AS d "
        "ON d.activity_id = a.id AND d.deriver = 'track'")


def _matched_against_segments(site) -> None:
    """Each activity's segment match current (its owner has no segments: none found)."""
    from core.segments.match import VERSION

    site.query(
        "INSERT INTO segments_activitymatch (needs_work, generation, priority, due_at, "
        "lease_owner, attempts, trace_parent, version, status, matched_at, candidates, "
        "efforts, error_code, error_message, activity_id, owner_id) SELECT false, 1, 0, "
        "now(), '', 0, '', %s, 'ready', now(), 0, 0, '', '', id, owner_id "
        "FROM activities_activity", [VERSION])


def _version(name: str) -> int:
    return noop.NOOP.version if name == noop.NOOP.name else derivers.BY_NAME[name].version


def bump(site, name: str) -> None:
    """As a deploy of a new version of `name` would leave things: every stored output of
    it older than the code, and a rollout to begin."""
    site.query("UPDATE activities_derived SET version = %s WHERE deriver = %s",
               [_version(name) - 1, name])
    site.query("DELETE FROM reconciler_rollout WHERE deriver = %s", [name])


def behind(site, name: str) -> int:
    return site.query("SELECT count(*) FROM activities_derived WHERE deriver = %s "
                      "AND version < %s", [name, _version(name)])[0][0]


def _stop_sweepers(site: Site) -> None:
    web = site.processes[0]
    site.processes.remove(web)
    site.stop()
    site.processes.append(web)


def _fresh_uploads(site: Site, port: int, *, count: int) -> list[float]:
    times = []
    for index in range(count):
        data = factories.fit(points=3600, seed=500_000 + index + int(time.time()) % 100_000)
        started = time.monotonic()
        upload = post_file(port, site.token, data)
        wait_until(lambda upload_id=upload["id"]: upload_status(port, site.token, upload_id)
                   == "ready", what="a fresh upload", timeout=120, every=0.02)
        times.append(time.monotonic() - started)
        time.sleep(0.5)
    return times
