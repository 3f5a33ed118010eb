"""Who this worker is, as leases and attempts record it."""

from __future__ import annotations

import os
import socket

from core import derivers


def identity() -> str:
    """host:pid, computed each time because q2 forks workers after import."""
    return f"{socket.gethostname()}:{os.getpid()}"


def code_versions() -> dict[str, int]:
    """The deriver versions this process's code produces."""
    return dict(derivers.VERSIONS)
