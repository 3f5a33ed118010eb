"""The track deriver: what it says when a file cannot be read."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_running_out_of_memory_frees_it_then_fails_for_good_with_a_sentence():
    # In a child whose address space is capped 400 MB above what it uses: 300 MB of GPX
    # text cannot be decoded there (text, skeleton and columns), but 300 MB can be
    # allocated again once the decoder's memory is freed.
    script = textwrap.dedent("""
        import resource
        from core import decode
        from core.derivers import track
        from core.derivers.base import DeriveError
        from tests import factories

        original = factories.gzipped_gpx(inflated_mb=300)
        decode.MAX_POINTS = 10**9  # its 4.4 million points are not what is refused here
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + (400 << 20),) * 2)
        try:
            track.build_track(original)
        except DeriveError as error:
            assert error.permanent and error.code == "OutOfMemory", error.code
            assert str(error) == track.OUT_OF_MEMORY
            assert error.__context__ is None  # no traceback holding the decoder's frames
        else:
            raise AssertionError("decoded 300 MB of text in 400 MB")
        room = bytearray(300 << 20)
        print("freed", len(room) >> 20)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["freed", "300"]
