"""The corpus decoded once per test session, for every deriver to read."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import decode, sniff
from core.track import Track
from tests.corpus import require_corpus, rows


@pytest.fixture(scope="session")
def corpus_tracks() -> dict[str, Track]:
    """MANIFEST file -> its Track, for every file that decodes (fitparse is slow: once)."""
    folder = require_corpus()
    tracks = {}
    for row in rows():
        try:
            fmt, content = sniff.unwrap(Path(folder, row["file"]).read_bytes(),
                                        max_inflated=1 << 30)
            tracks[row["file"]] = decode.decode(content, fmt)
        except (sniff.UnsupportedFile, sniff.TooLarge, decode.DecodeError):
            continue  # refusals are tests/unit/test_corpus.py's business
    return tracks
