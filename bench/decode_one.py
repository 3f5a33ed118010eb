"""Decode one file with one decoder, in a process of its own: prints the seconds per run,
the points, and the peak memory (VmHWM, this process only). `paired` times Cairn's decoder
and the reference back to back in each run, in this one process, so that whatever else
the machine runs meanwhile weighs on both sides of each run's ratio."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.peak import peak_mb


def cairn(path: Path) -> int:
    from core import decode, sniff

    fmt, content = sniff.unwrap(path.read_bytes(), max_inflated=1 << 30)
    return decode.decode(content, fmt).n


def fitparse(path: Path) -> int:
    import fitparse as reference

    return sum(1 for message in reference.FitFile(str(path)).get_messages("record")
               if message.get_values() is not None)


def gpxpy(path: Path) -> int:
    import gpxpy as reference

    document = reference.parse(path.read_bytes().decode("utf-8-sig"))
    return sum(len(segment.points) for track in document.tracks for segment in track.segments)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("decoder", choices=["cairn", "fitparse", "gpxpy", "paired"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    reference = fitparse if args.path.suffix == ".fit" else gpxpy
    decode = {"cairn": cairn, "fitparse": fitparse, "gpxpy": gpxpy,
              "paired": reference}[args.decoder]
    # Import and warm up outside the timing: a process decodes many files, not one. The
    # references take seconds per file, so for them importing is warm-up enough.
    import importlib

    for module in ("fitparse", "gpxpy", "core.decode"):
        importlib.import_module(module)

    if args.decoder in ("cairn", "paired"):
        cairn(args.path)
    if args.decoder == "paired":
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(_timed(cairn, args.path)[0])
            seconds, points = _timed(decode, args.path)
            theirs.append(seconds)
        print(json.dumps({"cairn": ours, "reference": theirs, "points": points}))
        return
    seconds, points = [], 0
    for _ in range(args.runs):
        took, points = _timed(decode, args.path)
        seconds.append(took)
    print(json.dumps({"seconds": seconds, "points": points, "peak_mb": peak_mb()}))


def _timed(decode, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    points = decode(path)
    return time.perf_counter() - started, points


if __name__ == "__main__":
    main()
