"""Benchmark d: Cairn's decoders beside plain fitparse and gpxpy, records/s and peak memory,
on the largest corpus files and generated 200,000-point FIT and GPX files."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import REPO, Figure
from tests import factories
from tests.corpus import corpus_dir

CORPUS_FILES = ("fit/muktihari__big_activity.fit", "fit/sportslib__4623204522.fit",
                "gpx/sportslib__7555261629.gpx")


def run(*, quick: bool) -> list[Figure]:
    folder = Path(tempfile.mkdtemp(prefix="cairn-bench-decode-"))
    points = 20_000 if quick else 200_000
    files = {f"generated {points:,}-point FIT": folder / "generated.fit",
             f"generated {points:,}-point GPX": folder / "generated.gpx"}
    files[f"generated {points:,}-point FIT"].write_bytes(factories.fit(points=points, seed=1))
    files[f"generated {points:,}-point GPX"].write_bytes(factories.gpx(points=points, seed=1))
    corpus = corpus_dir()
    if corpus is not None:
        files = {name: corpus / name for name in CORPUS_FILES} | files
    runs = 1 if quick else 3
    figures = []
    for label, path in files.items():
        reference = "fitparse" if path.suffix == ".fit" else "gpxpy"
        # Each run decodes with Cairn, then with the reference, in one process: the
        # ratio of each run is taken under the same load on the machine.
        paired = _measure("paired", path, runs)
        points = paired["points"]
        ratios = [t / o for o, t in zip(paired["cairn"], paired["reference"], strict=True)]
        wanted = 10 if reference == "fitparse" else 4
        figures.append(Figure(f"decode {label}: Cairn", "records/s",
                              tuple(points / s for s in paired["cairn"])))
        figures.append(Figure(f"decode {label}: plain {reference}", "records/s",
                              tuple(points / s for s in paired["reference"])))
        figures.append(Figure(f"decode {label}: speed-up over {reference}", "×",
                              tuple(ratios), target=f"≥ {wanted}×",
                              met=statistics.median(ratios) >= wanted))
        if label.startswith("generated"):
            ours = _measure("cairn", path, 1)  # alone: its peak memory is Cairn's own
            figures.append(Figure(f"decode {label}: peak memory", "MB", (ours["peak_mb"],),
                                  target="≤ 150 MB" if not quick else "",
                                  met=ours["peak_mb"] <= 150 if not quick else None))
    return figures


def _measure(decoder: str, path: Path, runs: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.decode_one", decoder, str(path),
                          "--runs", str(runs)], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)
