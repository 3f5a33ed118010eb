"""Cairn's benchmarks: every hot path beside its floor, median and spread over repeated
runs, a table printed and the figures written as JSON.

    ./cairn bench                   every benchmark at full size (about 36 minutes)
    ./cairn bench --quick           every benchmark once at a small size (CI: does it run?)
    ./cairn bench --only ack,sweep  some of them: ack, sweep, backfill, decode, ready, direct,
                                    records, fair, training, segments, export,
                                    sharing

Needs PostgreSQL (CAIRN_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432) and
Redis at 127.0.0.1:6379; each benchmark makes a database of its own (cairn_bench_*, or
CAIRN_BENCH_PREFIX's).
BENCHMARKS.md says how each figure is obtained.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import REPO, Figure, remove_sites

BENCHMARKS = {
    "ack": ("a. upload acknowledgement beside the floor", "bench.upload_ack"),
    "sweep": ("b. sweep cost from 100,000 to 10,000,000 activities", "bench.sweep_cost"),
    "backfill": ("c. backfill after a summary bump", "bench.backfill"),
    "decode": ("d. decoding beside fitparse and gpxpy", "bench.decoding"),
    "ready": ("e. upload to ready, one-hour FIT", "bench.upload_ready"),
    "direct": ("f. web CPU per MB, direct upload beside POST", "bench.direct_upload"),
    "records": ("g. records, totals and heatmaps rebuilt", "bench.records"),
    "fair": ("h. fair among users: B's upload while A's archive is processed", "bench.fair"),
    "training": ("i. training book: an FTP change and a new activity, 10,000 activities",
                 "bench.training"),
    "segments": ("j. segments: a new activity against 10,000 segments, a new segment's "
                 "backfill over 10,000 activities", "bench.segments"),
    "export": ("k. bulk export of a user with 10,000 activities", "bench.export"),
    "sharing": ("l. a privacy zone saved by a user with 10,000 public activities: the "
                "rebuild of every public copy", "bench.sharing"),
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="./cairn bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, one run each: proves the benchmarks work")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=Path, help="where to write the figures "
                        "(default bench/results/latest.json, or quick.json with --quick)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()

    report = {"machine": machine(), "quick": args.quick, "started": time.time(),
              "benchmarks": {}}
    unmet = 0
    for name in chosen:
        title, module_name = BENCHMARKS[name]
        print(f"\n== {title} ==", flush=True)
        started = time.monotonic()
        module = __import__(module_name, fromlist=["run"])
        try:
            result = module.run(quick=args.quick)
        finally:
            removed = remove_sites()  # a full run's folders would fill the disk
        print(f"(sites removed: {removed})", flush=True)
        figures, plans = result if isinstance(result, tuple) else (result, {})
        seconds = time.monotonic() - started
        print_table(figures)
        print(f"({seconds:.0f} s)", flush=True)
        unmet += sum(1 for f in figures if f.met is False)
        report["benchmarks"][name] = {"title": title, "seconds": seconds,
                                      "figures": [f.as_dict() for f in figures],
                                      "plans": plans}
    path = args.json or REPO / "bench" / "results" / ("quick.json" if args.quick
                                                       else "latest.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nfigures written to {path}" + (f"; {unmet} target(s) not met" if unmet else ""))
    return 0


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'median':>10}  {'unit':<12}  {'spread':<24}  target")
    for f in figures:
        verdict = "" if f.met is None else ("  met" if f.met else "  NOT MET")
        print(f"{f.name:<{width}}  {f.median:>10.4g}  {f.unit:<12}  {f.spread:<24}  "
              f"{f.target}{verdict}")


def machine() -> dict:
    """What the figures were measured on."""
    info = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gb"] = round(int(meminfo[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        info["postgresql"] = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


if __name__ == "__main__":
    sys.exit(main())
