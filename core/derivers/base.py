"""What a deriver is: a name, a version, the kinds it needs, a pure function and a codec."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import DeriveError

__all__ = ["JSON", "Codec", "DeriveError", "Deriver", "digest"]


@dataclass(frozen=True, kw_only=True)
class Codec:
    """How a deriver's output is stored: value -> bytes and back."""

    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


JSON = Codec(
    dumps=lambda value: json.dumps(value, separators=(",", ":"), allow_nan=False).encode(),
    loads=json.loads,
)


@dataclass(frozen=True, kw_only=True)
class Deriver:
    """One kind of derived data.

    `derive` receives the outputs of `needs`, in order (the `track` deriver alone gets the
    original file's bytes), and returns the output or raises DeriveError.
    """

    name: str
    version: int
    needs: tuple[str, ...]
    derive: Callable[..., Any]
    codec: Codec = JSON


def digest(data: bytes) -> bytes:
    """The content digest of an output's bytes (16 bytes of BLAKE2b): what tells a rebuild
    that changed nothing from one that did, and the output's ETag."""
    return hashlib.blake2b(data, digest_size=16).digest()
