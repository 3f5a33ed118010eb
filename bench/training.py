"""Benchmark i: the training book of one user with 10,000 activities over five years
(training/): built whole, rebuilt after an FTP change effective a year before the end
(issue 27's figure: seconds, and the activities it touched), and rebuilt after one new
activity (what a fresh upload costs a heavy user's book).

The activities are made in bulk SQL with real stored outputs (a track with power and
heart rate, and its summary, from generated one-hour recordings), so that each load is
computed from the track as the worker computes it and only the book's own work is timed.
"""

from __future__ import annotations

import math

import numpy as np

from bench.harness import Figure, Site
from core import derivers

#: Distinct recordings whose outputs the activities share, round-robin.
TEMPLATES = 12
YEARS = 5


def run(*, quick: bool) -> list[Figure]:
    size = 1_000 if quick else 10_000
    site = Site("training")
    try:
        _fill(site, size=size, outputs=_templates(2 if quick else TEMPLATES))
        found = site.python("bench.training_probe", "bench", "1" if quick else "3")
    finally:
        site.stop()
    ftp = found["ftp_change"]
    appended = found["appended"]
    return [
        Figure(f"whole build, one user with {size:,} activities over {YEARS} years", "s",
               tuple(found["whole_s"]), target="≤ 1 lease (120 s)",
               met=max(found["whole_s"]) <= 120),
        Figure("FTP change a year before the end: rebuild", "s", tuple(ftp["seconds"])),
        Figure("… loads recomputed (= activities from that day on, with power)", "loads",
               tuple(ftp["loads_computed"]), target=f"= {ftp['expected'][0]:,}",
               met=all(n == e for n, e in zip(ftp["loads_computed"], ftp["expected"],
                                               strict=True))),
        Figure("… days rewritten", "days", tuple(ftp["days_written"])),
        Figure("… rows read by the build", "rows", tuple(ftp["rows_read"])),
        Figure("… loads and days before that day byte-identical", "bool",
               tuple(float(same) for same in ftp["before_identical"]), target="1",
               met=all(ftp["before_identical"])),
        Figure("one new activity appended: rebuild", "s", tuple(appended["seconds"])),
        Figure("… rows read by the build", "rows", tuple(appended["rows_read"])),
        Figure("… statements run by the build", "queries", tuple(appended["queries"])),
        Figure("… equal to a whole rebuild", "bool",
               tuple(float(same) for same in appended["equals_whole"]), target="1",
               met=all(appended["equals_whole"])),
    ]


def _templates(count: int) -> list[dict[str, bytes]]:
    """Stored track and summary of `count` one-hour recordings with power and heart rate
    that vary as an interval session's do."""
    from tests import fitwriter

    track_deriver, summary_deriver = derivers.BY_NAME["track"], derivers.BY_NAME["summary"]
    out = []
    for seed in range(count):
        rng = np.random.default_rng(seed)
        n = 3600
        i = np.arange(n, dtype=np.float64)
        watts = (180 + 10 * seed + 60 * (np.sin(i / (120 + 20 * seed)) > 0.3)
                 + rng.normal(0, 15, n)).clip(0)
        hr = 125 + 0.2 * (watts - 180) + 10 * (1 - np.exp(-i / 600)) + rng.normal(0, 2, n)
        fit = fitwriter.activity({
            "time": 1.7e9 + i, "lat": np.full(n, 46.0),
            "lon": 14.5 + i * 8 / (111_320 * math.cos(math.radians(46.0))),
            "power": np.round(watts), "heart_rate": np.round(hr)})
        track = track_deriver.derive(fit)
        out.append({"track": track_deriver.codec.dumps(track),
                    "summary": summary_deriver.codec.dumps(summary_deriver.derive(track))})
    return out


def _fill(site: Site, *, size: int, outputs: list[dict[str, bytes]]) -> None:
    """`size` ready activities of the user "bench", evenly over YEARS years back from now,
    half rides and half runs, their track and summary taken round-robin from `outputs`."""
    upload = site.query(
        "INSERT INTO activities_upload (owner_id, sha256, size_bytes, original_name, kind, "
        "file_name, created_at) SELECT id, md5(random()::text) || md5(random()::text), 1, "
        "'', 'file', '', now() FROM auth_user WHERE username = 'bench' RETURNING id")[0][0]
    step_h = YEARS * 365 * 24 / size
    site.query(
        "INSERT INTO activities_activity (owner_id, upload_id, name, external_id, format, "
        "sha256, file_name, size_bytes, created_at, start_time, status, error_code, "
        "error_message, needs_work, generation, priority, due_at, lease_owner, attempts, "
        "processed_at, sport) SELECT u.id, %s, '', '', 'fit', md5(u.id || ':' || i) || "
        "md5(i::text), 'x', 1, now(), now() - i * %s * interval '1 hour', 'ready', '', '', "
        "false, 1, 0, now(), '', 0, now(), "
        "CASE WHEN i %% 2 = 0 THEN 'running' ELSE 'cycling' END "
        "FROM auth_user AS u, generate_series(1, %s) AS i WHERE u.username = 'bench'",
        [upload, step_h, size])
    for name in ("track", "summary"):
        version = derivers.BY_NAME[name].version
        for index, template in enumerate(outputs):
            site.query(
                "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
                "digest, error_code, error_message, duration_ms, updated_at) SELECT id, %s, "
                "%s, 'ready', %s, %s, '', '', 0, now() FROM activities_activity "
                "WHERE id %% %s = %s",
                [name, version, template[name], derivers.digest(template[name]),
                 len(outputs), index])
    site.query("VACUUM ANALYZE")
