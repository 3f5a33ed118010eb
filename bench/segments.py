"""Benchmark i: segments. The matching cost of one new activity against 10,000 segments in
the database (candidates read through the cells, milliseconds), and the backfill rate of a
new segment over a user with 10,000 activities. The work itself runs in
bench/segments_probe.py, inside a site of its own."""

from __future__ import annotations

from bench.harness import Figure, Site


def run(*, quick: bool) -> list[Figure]:
    activities, segments, runs = (1_000, 1_000, 3) if quick else (10_000, 10_000, 7)
    site = Site("segments")
    try:
        found = site.python("bench.segments_probe", str(activities), str(segments), str(runs))
    finally:
        site.stop()
    match, backfill = found["match"], found["backfill"]
    return [
        Figure(f"one new activity (3,600 points) matched against {match['segments']:,} "
               f"segments", "ms", tuple(match["match_ms"]), target="≤ 1 s", met=max(
                   match["match_ms"]) <= 1000),
        Figure(f"  segments read as candidates ({match['cells']} cells of its path; "
               f"{match['efforts']} efforts)", "segments", (match["candidates"],)),
        Figure(f"backfill of a new segment over {backfill['activities']:,} activities", "s",
               (backfill["seconds"],)),
        Figure(f"  backfill rate ({backfill['tracks_read']:,} tracks read, "
               f"{backfill['efforts']:,} efforts, {backfill['leases']} leases)",
               "activities/s", (backfill["activities"] / backfill["seconds"],)),
    ]
