"""What a deriver is: a name, a version, the kinds it needs, a pure function and a codec."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import DeriveError

__all__ = ["JSON", "Codec", "DeriveError", "Deriver"]


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
