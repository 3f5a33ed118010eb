"""Every deriver over every decodable corpus file: no exception, bounded output, fast.

Prints the largest outputs and the slowest derivations, for the record (pytest -s).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from core.derivers.charts import CHARTS
from core.derivers.playback import PLAYBACK
from core.derivers.preview import PREVIEW
from core.derivers.route import ROUTE
from core.derivers.splits import SPLITS
from tests.unit.derivers.test_route import decode_polyline

pytestmark = pytest.mark.corpus


def check_route(out: dict) -> None:
    assert len(out["points"]) <= 300
    assert len(decode_polyline(out["polyline"])) == len(out["points"])


def check_playback(out: dict) -> None:
    assert out["count"] <= 2000
    lists = [v for v in out.values() if isinstance(v, list)]
    assert all(len(values) == out["count"] for values in lists)


def check_preview(out: str) -> None:
    ET.fromstring(out)


def check_charts(out: dict) -> None:
    for profile in (out["by_distance"], out["by_time"]):
        assert profile is None or all(len(values) <= 400 for values in profile.values())


def check_splits(out: dict) -> None:
    for unit in ("km", "mile"):
        assert [s["n"] for s in out[unit]] == list(range(1, len(out[unit]) + 1))


#: Deriver, a check of its output, the largest stored output allowed (bytes).
CASES = {
    "route": (ROUTE, check_route, 16_000),
    "playback": (PLAYBACK, check_playback, 200_000),
    "preview": (PREVIEW, check_preview, 40_000),
    "charts": (CHARTS, check_charts, 64_000),
    "splits": (SPLITS, check_splits, 64_000),
}


@pytest.mark.parametrize("name", CASES)
def test_every_corpus_track_gives_bounded_output(name, corpus_tracks):
    deriver, check, max_bytes = CASES[name]
    assert len(corpus_tracks) >= 80
    sizes, seconds = {}, {}
    for file, track in corpus_tracks.items():
        started = time.perf_counter()
        out = deriver.derive(track)
        seconds[file] = time.perf_counter() - started
        sizes[file] = len(deriver.codec.dumps(out))
        check(out)
    largest = sorted(sizes, key=sizes.get, reverse=True)[:3]
    slowest = sorted(seconds, key=seconds.get, reverse=True)[:3]
    print(f"\n{name}: {len(sizes)} tracks in {sum(seconds.values()):.2f} s; largest "
          + ", ".join(f"{f} {sizes[f]:,} B" for f in largest) + "; slowest "
          + ", ".join(f"{f} {seconds[f] * 1000:.0f} ms" for f in slowest))
    assert max(sizes.values()) <= max_bytes
    assert max(seconds.values()) < 2.0
