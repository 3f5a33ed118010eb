"""What the database says after a chaos run: converged, lost, overlapping, rescued."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import psycopg

from bench.chaos.fleet import Kill


def not_converged(conn: psycopg.Connection, activity_ids: list[int],
                  versions: dict[str, int]) -> list[int]:
    """The activities that are not ready with every output at the current version."""
    current = " OR ".join(["(d.deriver = %s AND d.version = %s)"] * len(versions))
    params = [v for item in versions.items() for v in item]
    rows = conn.execute(f"""
        SELECT a.id FROM activities_activity a
         WHERE a.id = ANY(%s)
           AND (a.status <> 'ready' OR a.needs_work
                OR (SELECT count(*) FROM activities_derived d
                     WHERE d.activity_id = a.id AND d.status = 'ready'
                       AND ({current})) < %s)""",
                        [activity_ids, *params, len(versions)]).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class Interval:
    activity_id: int
    attempt_id: int
    worker: str
    start: datetime
    until: datetime  # when its lease ended: renewed expiry, or earlier if it finished
    finished: bool  # settled by its own worker (not closed as worker_died)


def ready_at(conn: psycopg.Connection, ids: list[int]) -> dict[int, float]:
    """When each activity was first ready (its first converged attempt ended), as
    time.time(): what its uploader waited for."""
    rows = conn.execute("""
        SELECT row_id, EXTRACT(EPOCH FROM MIN(ended_at))::float FROM work_attempt
         WHERE kind = 'activity' AND outcome = 'converged' AND row_id = ANY(%(ids)s)
         GROUP BY row_id""", {"ids": ids}).fetchall()
    return dict(rows)


def lease_intervals(conn: psycopg.Connection) -> list[Interval]:
    rows = conn.execute("""
        SELECT row_id, id, worker, started_at,
               LEAST(COALESCE(ended_at, held_until), held_until),
               -- a killed worker's attempt is closed by whoever takes the orphan over
               ended_at IS NOT NULL AND outcome <> 'worker_died'
          FROM work_attempt WHERE kind = 'activity'
         ORDER BY row_id, started_at, id""").fetchall()
    return [Interval(*row) for row in rows]


def overlaps(intervals: list[Interval]) -> list[tuple[Interval, Interval]]:
    """Pairs of attempts that held one activity's lease at the same time (must be none)."""
    found = []
    for _, group in itertools.groupby(intervals, key=lambda i: i.activity_id):
        group = list(group)
        for earlier, later in itertools.combinations(group, 2):
            if later.start < earlier.until and earlier.start < later.until:
                found.append((earlier, later))
    return found


def rescues(intervals: list[Interval], kills: list[Kill]) -> list[float]:
    """Seconds from each SIGKILL of a worker holding an activity to the next attempt on it."""
    killed = {kill.pid: kill.at for kill in kills}
    delays = []
    for _, group in itertools.groupby(intervals, key=lambda i: i.activity_id):
        group = list(group)
        for orphan, after in itertools.pairwise(group):
            pid = int(orphan.worker.rsplit(":", 1)[1])
            if not orphan.finished and pid in killed:
                delays.append(after.start.timestamp() - killed[pid])
    return delays
