"""Benchmark b: what a sweep costs at 100,000 and 1,000,000 activities (and 10,000,000 on
request), idle, at 0.1 % drift and right after a version bump that makes every summary
old; the figures must not grow with the table, and no plan may scan a table whole.

CAIRN_BENCH_SWEEP_SIZES (comma-separated activity counts) chooses the sizes: by default
100,000 and 1,000,000; `CAIRN_BENCH_SWEEP_SIZES=100000,1000000,10000000` adds ten million
(its fill takes minutes and tens of GB: BENCHMARKS.md, b). --quick: 20,000 only.
"""

from __future__ import annotations

import os
import re
import shutil

import psycopg

from bench import sweep_fill
from bench.harness import SERVER, Figure, Site

DEFAULT_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000,)
#: A plan node reading a table whole ("Seq Scan on activities_activity a ...").
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
#: A table of at most this many pages (8 kB each) read whole costs what an index probe
#: does, and PostgreSQL rightly reads it so whatever its indexes: workers, rollouts,
#: tallies, the in-flight tables (archives, upload sessions, deliveries) empty here, and a
#: window of a thousand users. A scan of a larger table is a cost that grows with it.
SMALL_PAGES = 100


def sizes(*, quick: bool) -> tuple[int, ...]:
    chosen = os.environ.get("CAIRN_BENCH_SWEEP_SIZES", "")
    if chosen.strip():
        return tuple(int(size.replace("_", "")) for size in chosen.split(",") if size.strip())
    return QUICK_SIZES if quick else DEFAULT_SIZES


def run(*, quick: bool) -> tuple[list[Figure], dict[str, str]]:
    figures, plans, large, small = [], {}, [], set()
    for size in sizes(quick=quick):
        size_figures, size_plans, pages = _one_size(size, samples=30 if quick else 300)
        figures += size_figures
        plans |= {f"{size:,}: {name}": text for name, text in size_plans.items()}
        for name, text in size_plans.items():
            for table in SEQ_SCAN.findall(text):
                if pages.get(table, 0) > SMALL_PAGES:
                    large.append(f"{size:,}: {name} ({table}, {pages[table]:,} pages)")
                else:
                    small.add(table)
    small = sorted(small)
    figures.append(Figure(f"query plans with a sequential scan of a table over {SMALL_PAGES} "
                          "pages, every size", "plans", (float(len(large)),),
                          target="0", met=not large))
    if large:
        print("sequential scans of large tables:\n  " + "\n  ".join(large))
    if small:
        print(f"sequential scans of tables of at most {SMALL_PAGES} pages (not judged): "
              + ", ".join(small))
    return figures, plans


def _one_size(size: int, *,
              samples: int) -> tuple[list[Figure], dict[str, str], dict[str, int]]:
    site = Site("sweep")
    try:
        filled = sweep_fill.fill(site, size)
        print(f"{size:,} activities filled: insert {filled['insert']:.0f} s, indexes "
              f"{filled['index']:.0f} s, VACUUM ANALYZE {filled['analyse']:.0f} s, "
              f"database {filled['gb']:.2f} GB", flush=True)
        probe = site.python("bench.sweep_probe", "--samples", str(samples))
    finally:
        site.stop()
        _drop(site)
    figures = [
        Figure(f"{size:,} activities: fill (insert, indexes, analyse)", "s",
               (filled["insert"] + filled["index"] + filled["analyse"],)),
        Figure(f"{size:,} activities: database size", "GB", (filled["gb"],)),
        # The whole round: clock, rollouts, archives, deletions, claims, books, heartbeat.
        Figure(f"{size:,} activities: whole sweep round, idle", "ms",
               tuple(probe["idle_round_ms"])),
        Figure(f"{size:,} activities: claim batch, idle", "ms", tuple(probe["idle_claim_ms"]),
               target="≤ 2 ms", met=_median(probe["idle_claim_ms"]) <= 2),
        Figure(f"{size:,} activities: claim batch, idle: buffers touched", "blocks",
               (float(probe["idle_claim_blocks"]),)),
        Figure(f"{size:,} activities: claim batch of 10 at 0.1 % drift", "ms",
               tuple(probe["drift_claim_ms"])),
        Figure(f"{size:,} activities: claim batch of 10, right after a summary bump", "ms",
               tuple(probe["bump_claim_ms"]), target="≤ 10 ms",
               met=_median(probe["bump_claim_ms"]) <= 10),
        Figure(f"{size:,} activities: claim after the bump: buffers touched", "blocks",
               (float(probe["bump_claim_blocks"]),)),
        Figure(f"{size:,} activities: rollout step (1,000 looked at, flagged), after the "
               "bump", "ms", tuple(probe["bump_rollout_ms"])),
        Figure(f"{size:,} activities: rollout step at the end of its pass, backfill pending",
               "ms", tuple(probe["end_rollout_ms"])),
    ]
    return figures, probe["plans"], probe["pages"]


def _drop(site: Site) -> None:
    """The bench database and data folder go at once: at ten million they hold tens of GB."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
    shutil.rmtree(site.data_dir, ignore_errors=True)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]
