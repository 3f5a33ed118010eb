"""Benchmark i: a bulk export (exports/) of one user with 10,000 activities: the
originals alone, and the originals with every activity written anew as GPX.

The activities are made in bulk SQL, each with a real one-hour FIT original in the store
(TEMPLATES distinct recordings, shared round-robin) and its stored track and summary, so
that only the export's own work is timed: the zip is built the way a sweeper builds it
(leases of the export kind, a few seconds each, resumed from the checkpoint) and put in
the store (fs) once; from the ask to ready.
"""

from __future__ import annotations

import hashlib

from bench.harness import Figure, Site
from core import derivers
from tests import factories

#: Distinct recordings the activities share, round-robin.
TEMPLATES = 12


def run(*, quick: bool) -> list[Figure]:
    size = 300 if quick else 10_000
    runs = 1 if quick else 3
    site = Site("export")
    try:
        _fill(site, size, _templates(site))
        originals = site.python("bench.export_probe", "bench", "originals", "gpx", str(runs))
        # Writing each activity anew costs far more than copying it: one run at full size.
        both = site.python("bench.export_probe", "bench", "both", "gpx", "1")
    finally:
        site.stop()
    figures = []
    for label, result in (("originals", originals), ("originals + GPX files", both)):
        seconds = result["seconds"]
        figures += [
            Figure(f"export of {size:,} activities, {label}: activities per second",
                   "activities/s", tuple(size / s for s in seconds)),
            Figure(f"export of {size:,} activities, {label}: zip MB per second", "MB/s",
                   tuple(result["zip_mb"] / s for s in seconds)),
            Figure(f"export of {size:,} activities, {label}: per CPU second of the builder",
                   "activities/s", tuple(size / s for s in result["cpu_s"])),
            Figure(f"export of {size:,} activities, {label}: zip size", "MB",
                   (result["zip_mb"],)),
            Figure(f"export of {size:,} activities, {label}: peak memory", "MB",
                   (result["peak_mb"],)),
        ]
    return figures


def _templates(site: Site) -> list[dict]:
    """TEMPLATES one-hour FIT recordings stored as originals, with their track and
    summary as the track and summary derivers store them."""
    out = []
    for seed in range(TEMPLATES):
        data = factories.fit(points=3600, seed=200 + seed)
        sha = hashlib.sha256(data).hexdigest()
        name = f"originals/{sha[:2]}/{sha}.fit"
        path = site.data_dir / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        track = derivers.BY_NAME["track"].derive(data)
        summary = derivers.BY_NAME["summary"].derive(track)
        out.append({"name": name, "size": len(data),
                    "track": derivers.BY_NAME["track"].codec.dumps(track),
                    "summary": derivers.BY_NAME["summary"].codec.dumps(summary)})
    return out


def _fill(site: Site, size: int, templates: list[dict]) -> None:
    """`size` ready activities of the user `bench`, every 7 hours back from now, each
    referring to a template's original and holding its track and summary."""
    upload = site.query(
        "INSERT INTO activities_upload (owner_id, sha256, size_bytes, original_name, kind, "
        "file_name, created_at) SELECT id, repeat('0', 64), 1, 'ride.fit', 'file', '', "
        "now() FROM auth_user WHERE username = 'bench' RETURNING id")[0][0]
    for index, template in enumerate(templates):
        site.query(
            "INSERT INTO activities_activity (owner_id, upload_id, name, external_id, format, "
            "sha256, file_name, size_bytes, created_at, start_time, status, error_code, "
            "error_message, needs_work, generation, priority, due_at, lease_owner, attempts, "
            "processed_at, sport) SELECT u.id, %s, 'Ride ' || i, '', 'fit', "
            "md5(i::text) || md5((-i)::text), %s, %s, now(), now() - i * interval '7 hours', "
            "'ready', '', '', false, 1, 0, now(), '', 0, now(), 'cycling' "
            "FROM auth_user AS u, generate_series(1, %s) AS i "
            "WHERE u.username = 'bench' AND i %% %s = %s",
            [upload, template["name"], template["size"], size, len(templates), index])
    for name in ("track", "summary"):
        version = derivers.BY_NAME[name].version
        for template in templates:
            site.query(
                "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
                "error_code, error_message, duration_ms, updated_at) SELECT id, %s, %s, "
                "'ready', %s, '', '', 0, now() FROM activities_activity "
                "WHERE file_name = %s",
                [name, version, template[name], template["name"]])
    site.query("VACUUM ANALYZE")
