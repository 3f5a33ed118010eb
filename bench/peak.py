"""The peak resident memory of this process alone.

VmHWM, not getrusage's ru_maxrss: Linux keeps the largest RSS across fork and exec, so a
child of a large process (the benchmark runner, after the benchmarks before it) reports
its parent's peak as its own until it outgrows it.
"""

from __future__ import annotations

from pathlib import Path


def peak_mb() -> float:
    """This process's high-water resident set, in MB (NaN where /proc has none)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
