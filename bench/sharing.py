"""Benchmark l: a privacy zone saved by a user with 10,000 public activities: how long the
change itself takes (every shared copy flagged in its transaction), how long two
`reconcile --loop` sweepers take to rebuild every public copy, and how many of the reads
made meanwhile were answered "being updated" (503).

The activities are made in bulk SQL as the export benchmark makes them (one-hour FIT
recordings, TEMPLATES distinct ones round-robin, with their stored track and summary),
all public, each with a current public copy (built once per template here and copied), so
that only the rebuild after the change is timed.
"""

from __future__ import annotations

from bench import export
from bench.harness import Figure, Site
from core import derivers, privacy
from core import track as tracks
from core.derivers import preview, route
from core.derivers.base import JSON


def run(*, quick: bool) -> list[Figure]:
    size = 500 if quick else 10_000
    site = Site("sharing")
    try:
        templates = export._templates(site)
        export._fill(site, size, templates)
        _outputs(site, templates)
        start = _share(site, templates)
        site.sweepers(2)
        result = site.python("bench.sharing_probe", "bench", str(start[0]), str(start[1]))
        if "error" in result:
            raise RuntimeError(f"the probe failed: {result['error']}\n{result['trace']}")
    finally:
        site.stop()
    return [
        Figure(f"the zone's save (201), flagging {size:,} shared copies", "s",
               (result["save_s"],)),
        Figure(f"every public copy of {size:,} rebuilt after a zone change, 2 sweepers", "s",
               (result["rebuild_s"],)),
        Figure(f"copies rebuilt per second ({size:,})", "copies/s",
               (size / result["rebuild_s"],)),
        Figure(f"reads during the rebuild answered 'being updated' (of {result['reads']})",
               "reads", (result["updating"],)),
    ]


def _outputs(site: Site, templates: list[dict]) -> None:
    """Every other deriver's output of each template, as stored, so that the sweepers have
    no activity to derive (only the users' books to build before the zone is saved)."""
    for template in templates:
        values = {"track": derivers.BY_NAME["track"].codec.loads(template["track"])}
        values["summary"] = derivers.BY_NAME["summary"].codec.loads(template["summary"])
        for deriver in derivers.ALL:
            if deriver.name in values:
                continue
            values[deriver.name] = deriver.derive(*(values[n] for n in deriver.needs))
            site.query(
                "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
                "error_code, error_message, duration_ms, updated_at) SELECT id, %s, %s, "
                "'ready', %s, '', '', 0, now() FROM activities_activity WHERE file_name = %s",
                [deriver.name, deriver.version, deriver.codec.dumps(values[deriver.name]),
                 template["name"]])


def _share(site: Site, templates: list[dict]) -> tuple[float, float]:
    """Make every activity public with a current copy (privacy version 1, no zones); the
    start of the first template, where the zone will go."""
    site.query("UPDATE activities_activity SET visibility = 'public', "
               "share_id = substr(md5(id::text || 'share'), 1, 24)")
    site.query("INSERT INTO sharing_privacy (user_id, version, trim_start_m, trim_end_m, "
               "default_visibility) "
               "SELECT id, 1, 0, 0, 'private' FROM auth_user WHERE username = 'bench'")
    from sharing import build

    first = None
    for template in templates:
        track = derivers.BY_NAME["track"].codec.loads(template["track"])
        if first is None:
            first = (float(track.lat[0]), float(track.lon[0]))
        shown = privacy.cut(track, privacy.Rules())
        site.query(
            "INSERT INTO sharing_publiccopy (activity_id, owner_id, version, privacy_version, "
            "status, error_code, error_message, built_at, route, playback, charts, preview, "
            "track, hidden_points, needs_work, generation, priority, due_at, lease_owner, "
            "attempts) SELECT id, owner_id, %s, 1, 'ready', '', '', now(), %s, %s, %s, %s, %s, "
            "0, false, 1, 0, now(), '', 0 FROM activities_activity WHERE file_name = %s",
            [build.VERSION, JSON.dumps(route.build_route(shown, join_many=False)),
             JSON.dumps(derivers.BY_NAME["playback"].derive(shown)),
             JSON.dumps(derivers.BY_NAME["charts"].derive(shown)),
             preview.draw_preview(shown, join_many=False).encode(), tracks.encode(shown),
             template["name"]])
    # The user's duplicates check as already run (the footprints of 10,000 activities are
    # that check's own benchmark's business): the sweepers build the other books first.
    from duplicates import check

    site.query("INSERT INTO duplicates_check (needs_work, generation, priority, due_at, "
               "lease_owner, attempts, version, status, error_code, error_message, built_at, "
               "whole, pairs, user_id) SELECT false, 1, 1, now(), '', 0, %s, 'ready', '', '', "
               "now(), false, '[]', id FROM auth_user WHERE username = 'bench'", [check.VERSION])
    site.query("VACUUM ANALYZE")
    return first
