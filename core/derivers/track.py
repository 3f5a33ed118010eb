"""The `track` deriver: decode the original file once into the compact Track form, with
the owner's edits applied (core.revisions: a crop, stretches removed, a split, the streams
taken from an activity merged into it)."""

from core import decode, plausible, revisions, sniff
from core import track as tracks
from core.derivers.base import Codec, DeriveError, Deriver

# Ingest already refused files over the upload limit; this bound only keeps a stored
# gzip from inflating without end.
MAX_INFLATED_BYTES = 1 << 30
OUT_OF_MEMORY = ("Reading this file needs more memory than a worker has, so Cairn cannot "
                 "make a track of it; it is not retried.")


def build_track(original: bytes, edits: dict | None = None,
                giver: tuple[bytes, dict | None] | None = None) -> tracks.Track:
    """The original's points, values no recording can hold left out (core.plausible), as
    the current revision's `edits` leave them (none: the track as decoded, unchanged).
    With a merge's `take` in the edits, `giver` is the original and edits of the activity
    merged into this one, whose streams it takes (core.revisions.take); a giver gone
    meanwhile (None) gives nothing."""
    track = _edited(original, revisions.own(edits))
    taking = (edits or {}).get("take")
    if taking and giver is not None:
        given = _edited(giver[0], revisions.own(giver[1]))
        track = revisions.take(track, given, list(taking.get("streams") or ()))
    return track


def _edited(original: bytes, edits: dict) -> tracks.Track:
    try:
        track = _decode(original)
    except MemoryError:
        track = None  # leaving this block drops the traceback and the frames holding memory
    if track is None:
        # Raised out here, so that it carries no reference to them (no __context__).
        raise DeriveError(OUT_OF_MEMORY, code="OutOfMemory", permanent=True)
    try:
        return revisions.apply(track, edits)
    except revisions.EditError as error:
        raise DeriveError(str(error), code="BadEdits", permanent=True) from None


def _decode(original: bytes) -> tracks.Track:
    try:
        fmt, content = sniff.unwrap(original, max_inflated=MAX_INFLATED_BYTES,
                                    max_points=decode.MAX_POINTS)
        return plausible.clean(decode.decode(content, fmt))
    except sniff.TooManyPoints as error:
        raise DeriveError(str(error), code="TooManyPoints", permanent=True) from None
    except (sniff.UnsupportedFile, sniff.TooLarge) as error:
        raise DeriveError(str(error), code="UnsupportedFile", permanent=True) from None
    except decode.DecodeError as error:
        raise DeriveError(str(error), code=error.code, permanent=True) from None


TRACK = Deriver(
    name="track",
    # 2: values no recording can hold are dropped (core.plausible); 3: the file's own
    # name (GPX <name>), which titles read (tracks of files without one are unchanged)
    # 4: the device's laps (FIT lap messages, TCX <Lap>)
    version=4,
    needs=(),
    derive=build_track,
    codec=Codec(dumps=tracks.encode, loads=tracks.decode),
)
