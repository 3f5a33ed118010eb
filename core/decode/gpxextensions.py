"""gpx._extensions over a batch of points at once, from UTF-8 bytes (core/decode/gpxregex.py).

gpx.py takes, per column, the first finite value among a point's extension elements of
that lower-case local name, in document order. Extension blocks repeat a few shapes (the
same tags, values aside), so a pattern learnt from each shape reads a whole batch in one
regex pass; a batch of too many shapes, or holding a block of too many tags, is read tag
by tag in one linear scan. A pattern's cost grows with its groups far faster than with the
text (a block of 16,000 tags took 4 GB to match), so no pattern is learnt from a block of
over _SHAPE_TAGS tags: whatever a file holds, memory stays linear in its size. The texts
are ElementTree's given what gpxregex has checked (no entity reference, comment, CDATA
section or processing instruction); they must be ASCII, where float() reads bytes as it
reads str.
"""

from __future__ import annotations

import math
import re

import numpy as np

from core.decode import gpx

#: Lower-case local name -> column, as gpx._EXTENSION_COLUMNS (speed kept apart).
_COLUMN_OF = {name: "ext_speed" if column == "speed" else column
              for name, column in gpx._EXTENSION_COLUMNS.items()}
_WANTED = ("hr", "cadence", "power", "ext_speed")
_SHAPES = 4  # shapes learnt per file before reading tag by tag
_SHAPE_TAGS = 32  # tags of a block a shape is learnt from (Garmin's have 3 to 10)
# A tag in a block, or the separator between two points' blocks (NUL cannot occur in
# XML). A start tag gives its name, "/" if empty, and the text up to the next tag.
# Possessive (*+): a greedy repeat of a group keeps every iteration for backtracking
# (about 270 bytes each), a possessive one none.
_TAG = re.compile(rb"""<([^\s/>!?][^\s/>]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*+"""
                  rb"""\s*(/?)>([^<\x00]*)|\x00""")
_TAGS = re.compile(rb"(<[^<>]*>)")
#: A text run, within one block; possessive, as what follows it is a "<" or the end.
_TEXT = rb"[^<\x00]*+"


def values(blocks: list[bytes | None], shapes: list) -> dict[str, np.ndarray] | None:
    """Each point's extensions block (None: none) -> column -> values, or None if the
    blocks are not ASCII. `shapes` keeps the shapes learnt, for the file's next batch."""
    blocks = [block or b"" for block in blocks]
    if not b"".join(blocks).isascii():
        return None
    return _by_shape(blocks, shapes) or _one_by_one(blocks)


def _by_shape(blocks: list[bytes], shapes: list) -> dict[str, np.ndarray] | None:
    """Read every block with the patterns of known shapes, learning the shape of a block
    none fits; None once _SHAPES shapes are not enough."""
    joined = b"\x00" + b"\x00".join(blocks) + b"\x00"
    while True:
        either = b"|".join(b"(?:" + pattern + b")" for pattern, _, _ in shapes)
        if shapes:  # one match per block: its separator, the block, not the next separator
            matches = re.findall(b"\\x00(?:" + either + b")?(?=\\x00)", joined)
            if len(matches) == len(blocks):
                return _chosen(matches, shapes, len(blocks))
        whole = re.compile(b"(?:" + either + b")?")
        example = next((block for block in blocks if block and not whole.fullmatch(block)),
                       None)
        shape = _shape(example) if example is not None else None
        if shape is None or len(shapes) == _SHAPES:
            return None
        shapes.append(shape)


def _shape(block: bytes) -> tuple[bytes, dict[str, list[int]], int] | None:
    """A block -> (pattern of blocks with its tags, column -> capture numbers of its
    candidate texts in document order, number of captures)."""
    if b'"' in block or b"'" in block:  # an attribute value could hold ">": no shape
        return None
    if block.count(b"<") > 2 * _SHAPE_TAGS:  # a start and an end tag each
        return None
    pattern, places, group = [_TEXT], {name: [] for name in _WANTED}, 0
    for tag in _TAGS.split(block)[1::2]:
        pattern.append(re.escape(tag))
        if tag.startswith(b"</") or tag.endswith(b"/>"):
            pattern.append(_TEXT)  # a tail: no element's text
            continue
        column = _COLUMN_OF.get(_local_name(tag[1:-1].split()[0]))
        if column:
            places[column].append(group)
        pattern.append(b"(" + _TEXT + b")")
        group += 1
    return b"".join(pattern), places, group


def _chosen(matches: list, shapes: list, n: int) -> dict[str, np.ndarray]:
    """Per column, the first finite candidate of each block (its shape's, in order)."""
    if sum(count for _, _, count in shapes) == 1:
        matches = [(match,) for match in matches]
    found = {}
    for column in _WANTED:
        places, offset = [], 0
        for _, shape_places, count in shapes:
            places += [offset + place for place in shape_places[column]]
            offset += count
        chosen = np.full(n, np.nan)
        for place in reversed(places):  # so that the first finite one wins
            values_here = _numbers([match[place] for match in matches])
            chosen = np.where(np.isnan(values_here), chosen, values_here)
        found[column] = chosen
    return found


def _numbers(texts: list[bytes | None]) -> np.ndarray:
    """gpx._number of each text (an empty element's text is None: NaN)."""
    try:  # float() over the lot at C speed; "nan" stands for the empty ones
        numbers = np.array(list(map(float, [text or b"nan" for text in texts])))
    except ValueError:
        numbers = np.array([gpx._number(text or None) for text in texts], dtype=np.float64)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


def _one_by_one(blocks: list[bytes]) -> dict[str, np.ndarray]:
    found_all: dict[str, list[float]] = {name: [] for name in _WANTED}
    columns: dict[bytes, str] = {}
    found: dict[str, float] = {}
    for match in _TAG.finditer(b"\x00".join(blocks) + b"\x00"):  # not a list of every tag
        name, empty, text = match.groups()
        if not name:  # the end of one point's block
            for column in _WANTED:
                found_all[column].append(found.get(column, math.nan))
            found = {}
            continue
        column = columns.get(name)
        if column is None:
            column = columns[name] = _COLUMN_OF.get(_local_name(name), "")
        if column and column not in found:
            value = gpx._number(None if empty else text or None)
            if not math.isnan(value):
                found[column] = value
    return {column: np.array(values, dtype=np.float64) for column, values in found_all.items()}


def _local_name(qualified: bytes) -> str:
    """gpx._extensions' lower-case local name ("{uri}" aside, as ElementTree gives it)."""
    return qualified.rpartition(b":")[2].decode("ascii").lower()
