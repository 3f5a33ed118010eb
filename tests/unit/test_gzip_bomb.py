"""A gzipped GPX that inflates to 490 MB of whitespace (a 0.5 MB upload) decodes to its
track in the memory its points take, not the memory its whitespace would: measured in a
process of its own under an address-space cap, as a worker runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import factories, gzipcraft

REPO = Path(__file__).resolve().parents[2]
#: Whitespace the bomb inflates to, in MB (the issue's: 490 MB from 487 KB).
INFLATED_MB = 490
#: The cap the decoding process runs under (a worker's CAIRN_WORKER_MEMORY_MB would be
#: 2048): before, the decoder took 2,000 MB here and failed with OutOfMemory.
CAP_MB = 1024
#: Far above what a 200-point track takes, far below what the whitespace would.
PEAK_BOUND_MB = 250

_DECODE = """
import json, resource, sys
cap = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from core.derivers import track
from core.derivers.base import DeriveError
try:
    built = track.build_track(open(sys.argv[1], "rb").read())
    outcome = {"points": built.n, "lat": list(built.columns["lat"][:3])}
except DeriveError as error:
    outcome = {"code": error.code, "error": str(error)}
# VmHWM, not ru_maxrss: Linux keeps the largest RSS across fork and exec, so the child of
# a big test process would start with its parent's peak; the high-water mark of this
# process's own memory starts anew at exec.
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
outcome["peak_mb"] = hwm_kb / 1024
print(json.dumps(outcome))
"""


def decode_capped(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _DECODE, str(path), str(CAP_MB)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("where", ["between-tags", "in-a-text", "in-a-tag"])
def test_a_whitespace_bomb_decodes_to_its_track_in_bounded_memory(tmp_path, where):
    plain = factories.gpx(points=200, seed=5)
    # Where the spaces go: indentation before the first point; inside the first point's
    # <ele> text, before its end tag; inside the first trkpt tag, between attributes.
    at = {"between-tags": plain.index(b"<trkpt"),
          "in-a-text": plain.index(b"</ele>"),
          "in-a-tag": plain.index(b" lon=")}[where]
    bomb = gzipcraft.filled([plain[:at], plain[at:]], mb=INFLATED_MB)
    assert len(bomb) < 600 * 1024
    path = tmp_path / "bomb.gpx.gz"
    path.write_bytes(bomb)
    outcome = decode_capped(path)
    print(f"decoder peak on the {len(bomb) // 1024} KB gzip ({where}): "
          f"{outcome['peak_mb']:.0f} MB")
    assert outcome.get("points") == 200, outcome
    assert outcome["peak_mb"] < PEAK_BOUND_MB
