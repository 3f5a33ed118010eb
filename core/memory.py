"""The address space a Cairn process may take (CAIRN_WORKER_MEMORY_MB, an RLIMIT_AS limit),
set by `serve` (so gunicorn, the q2 cluster and their workers inherit it) and by
`reconcile` at start.

Decoding a file takes memory in proportion to what it holds (core/xmlspace.py keeps
whitespace out of it, CAIRN_MAX_POINTS bounds its points), but a hostile or unusual file
may still need more than a worker should have. Under the limit, such a file fails alone
(the allocation raises MemoryError: the track deriver's permanent OutOfMemory), instead of
the machine running out of memory for every process on it.
"""

from __future__ import annotations

import resource


def cap(megabytes: int) -> int | None:
    """Limit this process (and the processes it starts) to `megabytes` of address space;
    0 leaves it as it is. A lower limit set from outside (ulimit -v) is kept. Returns the
    limit in bytes, or None."""
    if megabytes <= 0:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = megabytes * 2**20
    for given in (soft, hard):
        if given != resource.RLIM_INFINITY:
            limit = min(limit, given)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit
