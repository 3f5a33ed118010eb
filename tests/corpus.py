"""Where the third-party corpus is, and its MANIFEST rows.

The corpus is other projects' test data: it is read in place, never copied here.
Tests that need it skip with the reason when it is absent, unless CAIRN_REQUIRE_CORPUS=1
(set by .ci/run), when they fail instead.
"""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_CANDIDATES = (REPO.parent / "shared" / "corpus", Path("/work/shared/corpus"))


@cache
def corpus_dir() -> Path | None:
    configured = os.environ.get("CAIRN_CORPUS")
    candidates = (Path(configured),) if configured else _CANDIDATES
    for path in candidates:
        if (path / "MANIFEST.csv").is_file():
            return path
    return None


def require_corpus() -> Path:
    """The corpus folder, or skip (fail under CAIRN_REQUIRE_CORPUS=1) with the reason."""
    path = corpus_dir()
    if path is None:
        reason = "corpus not found: set CAIRN_CORPUS to the folder holding MANIFEST.csv"
        if os.environ.get("CAIRN_REQUIRE_CORPUS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@cache
def manifest() -> tuple[dict[str, str], ...]:
    path = corpus_dir()
    if path is None:
        return ()
    with open(path / "MANIFEST.csv", newline="") as handle:
        return tuple(csv.DictReader(handle))


def rows(folder: str | None = None, fmt: str | None = None) -> list[dict[str, str]]:
    return [r for r in manifest()
            if (folder is None or r["folder"] == folder) and (fmt is None or r["format"] == fmt)]
