"""Record messages -> track columns, one numpy pass per definition (core/decode/fastfit.py).

It computes what core/decode/fit.py computes record by record from fitparse's values:
each field name takes the first source fitparse gives a value for (a missing value skips
the source, a non-finite one still takes the name); each column takes the first of its
names with a finite value; then the same unit changes, in the same float operations.
"""

from __future__ import annotations

import numpy as np

from core.decode import fit
from core.decode.fitfile import FIT_EPOCH
from core.decode.fitprofile import WANTED, Definition, Source


def decode_records(content: bytes, runs: list[tuple[int, int, Definition]],
                   compressed: list[tuple[int, np.ndarray]], n: int) -> dict[str, np.ndarray]:
    """Runs of record messages (start, count, definition) -> fit.py's columns, in file order."""
    values = {name: np.full(n, np.nan) for name in WANTED}
    by_definition: dict[int, tuple[int, Definition, list[tuple[int, int]]]] = {}
    owners = []  # per run: which definition, numbered in order of first use
    for start, count, definition in runs:
        entry = by_definition.setdefault(id(definition), (len(by_definition), definition, []))
        entry[2].append((start, count))
        owners.append(entry[0])
    owner = np.repeat(np.array(owners, dtype=np.int32),
                      np.array([count for _, count, _ in runs], dtype=np.int64))
    view = memoryview(content)
    for number, definition, spans in by_definition.values():
        if not definition.sources:
            continue
        size = definition.size
        data = b"".join(view[start: start + count * size] for start, count in spans)
        rows = np.frombuffer(data, dtype=definition.dtype)
        where = np.flatnonzero(owner == number) if len(by_definition) > 1 else slice(None)
        for name, found in _names(rows, definition.sources).items():
            values[name][where] = found
    columns = _columns(values)
    for first, times in compressed:  # their definitions have no timestamp field (fastfit.py)
        columns["time"][first: first + len(times)] = times.astype(np.float64) + FIT_EPOCH
    return columns


def _names(rows: np.ndarray, sources: list[Source]) -> dict[str, np.ndarray]:
    """Field name -> value of its first source with a value (fit._values)."""
    found: dict[str, np.ndarray] = {}
    for source in reversed(sources):  # so that earlier sources overwrite later ones
        raw = rows[source.column]
        present = ~np.isnan(raw) if source.invalid is None else raw != source.invalid
        value = _scaled(raw, source)
        previous = found.get(source.name)
        if previous is None:
            found[source.name] = np.where(present, value, np.nan)
        else:
            found[source.name] = np.where(present, value, previous)
    return found


def _scaled(raw: np.ndarray, source: Source) -> np.ndarray:
    """fitparse's component rendering and scale/offset, then fit._number (NaN if not finite)."""
    if source.bits is not None:
        raw = (raw.astype(np.int64) >> source.shift) & ((1 << source.bits) - 1)
    value = raw.astype(np.float64)
    if source.scale:
        value = value / source.scale
    if source.offset:
        value = value - source.offset
    value[~np.isfinite(value)] = np.nan
    return value


def _columns(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Field values -> track columns: fit._add_record's choices and unit changes."""
    columns = {}
    for column, names in fit._RECORD_FIELDS.items():
        chosen = values[names[-1]]
        for name in reversed(names[:-1]):
            chosen = np.where(np.isnan(values[name]), chosen, values[name])
        columns[column] = chosen
    columns["time"] = columns["time"] + FIT_EPOCH
    columns["lat"] = columns["lat"] * fit._SEMICIRCLE_DEG
    columns["lon"] = columns["lon"] * fit._SEMICIRCLE_DEG
    fraction = values["fractional_cadence"]
    columns["cadence"] = np.where(np.isnan(fraction), columns["cadence"],
                                  columns["cadence"] + fraction)
    return columns
