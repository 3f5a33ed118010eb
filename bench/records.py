"""Benchmark f: rebuilding users' records, totals and heatmaps (records/): one user with
10,000 activities built whole and merged, and 1,000 users' books after a version bump.

The activities are made in bulk SQL with real outputs (summary, best efforts, route
derived from generated one-hour recordings), so that only the book's own work is timed.
"""

from __future__ import annotations

from bench.harness import Figure, Site
from core import derivers
from tests import factories

#: Distinct recordings whose outputs the activities share, round-robin.
TEMPLATES = 12


def run(*, quick: bool) -> list[Figure]:
    big = 1_000 if quick else 10_000
    users, each = (100, 5) if quick else (1_000, 20)
    site = Site("records")
    try:
        outputs = _templates()
        _fill(site, owners=["bench"], each=big, outputs=outputs)
        one = site.python("bench.records_probe", "one", "bench", "3" if quick else "5")
        names = [f"u{n}" for n in range(users)]
        site.query("INSERT INTO auth_user (username, password, is_superuser, first_name, "
                   "last_name, email, is_staff, is_active, date_joined) SELECT 'u' || n, '!', "
                   "false, '', '', '', false, true, now() FROM generate_series(0, %s) AS n",
                   [users - 1])
        _fill(site, owners=names, each=each, outputs=outputs)
        bump = site.python("bench.records_probe", "bump", "1" if quick else "2")
    finally:
        site.stop()
    return [
        Figure(f"whole build, one user with {big:,} activities", "s", tuple(one["whole_s"]),
               target="≤ 1 lease (120 s)", met=max(one["whole_s"]) <= 120),
        Figure(f"merged build (one activity added), one user with {big:,}", "s",
               tuple(one["merged_s"])),
        Figure(f"{users:,} users × {each} activities rebuilt after a version bump", "s",
               tuple(bump["seconds"])),
        Figure(f"{users:,} users after a bump: books per second", "books/s",
               tuple(users / s for s in bump["seconds"])),
        Figure(f"peak memory of the process building the {big:,}-activity book", "MB",
               (one["peak_mb"],)),
    ]


def _templates() -> list[dict[str, bytes]]:
    """Stored outputs of TEMPLATES one-hour recordings (power, heart rate, GPS)."""
    wanted = ("summary", "best_efforts", "route")
    track_deriver = derivers.BY_NAME["track"]
    out = []
    for seed in range(TEMPLATES):
        track = track_deriver.derive(factories.fit(points=3600, seed=100 + seed))
        out.append({name: derivers.BY_NAME[name].codec.dumps(derivers.BY_NAME[name].derive(
            track)) for name in wanted})
    return out


def _fill(site: Site, *, owners: list[str], each: int, outputs: list[dict[str, bytes]]) -> None:
    """`each` ready activities for every owner, starting every 7 hours back from now,
    half running and half cycling, their outputs taken round-robin from `outputs`."""
    upload = site.query(
        "INSERT INTO activities_upload (owner_id, sha256, size_bytes, original_name, kind, "
        "file_name, created_at) SELECT id, md5(random()::text) || md5(random()::text), 1, "
        "'', 'file', '', now() FROM auth_user WHERE username = 'bench' RETURNING id")[0][0]
    first = site.query("SELECT coalesce(max(id), 0) FROM activities_activity")[0][0]
    site.query(
        "INSERT INTO activities_activity (owner_id, upload_id, name, external_id, format, "
        "sha256, file_name, size_bytes, created_at, start_time, status, error_code, "
        "error_message, needs_work, generation, priority, due_at, lease_owner, attempts, "
        "processed_at, sport) SELECT u.id, %s, '', '', 'fit', md5(u.id || ':' || i) || "
        "md5(i::text), 'x', 1, now(), now() - i * interval '7 hours', 'ready', '', '', false, "
        "1, 0, now(), '', 0, now(), CASE WHEN i %% 2 = 0 THEN 'running' ELSE 'cycling' END "
        "FROM auth_user AS u, generate_series(1, %s) AS i WHERE u.username = ANY(%s)",
        [upload, each, owners])
    for name in ("summary", "best_efforts", "route"):
        version = derivers.BY_NAME[name].version
        for index, template in enumerate(outputs):
            site.query(
                "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
                "error_code, error_message, duration_ms, updated_at) SELECT id, %s, %s, "
                "'ready', %s, '', '', 0, now() FROM activities_activity "
                "WHERE id > %s AND id %% %s = %s",
                [name, version, template[name], first, len(outputs), index])
    site.query("VACUUM ANALYZE")
