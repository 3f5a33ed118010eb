"""core.xmlspace: whitespace squeezed out of a gzipped GPX or TCX as it inflates, without
changing what any file decodes to; and track points counted before anything parses."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from core import decode, sniff, xmlspace
from core import track as tracks
from core.decode import DecodeError
from core.derivers import track as track_deriver
from core.derivers.base import DeriveError
from tests import factories
from tests.corpus import require_corpus, rows

FILES = Path(__file__).resolve().parents[1] / "files"


@pytest.mark.parametrize(("given", "squeezed"), [
    # Indentation and padding next to a tag: one character left.
    (b"<a>\n    <b> 1.5 </b>\n</a>", b"<a>\n<b> 1.5 </b>\n</a>"),
    (b"<a>\t\t\r\n  </a>", b"<a>\t</a>"),
    # Inside a text or a tag: runs kept up to RUN characters.
    (b"<n>a  b</n>", b"<n>a  b</n>"),
    (b"<n>a" + b" " * 100 + b"b</n>", b"<n>a" + b" " * xmlspace.RUN + b"b</n>"),
    (b'<p lat="1"' + b" " * 100 + b'lon="2"/>', b'<p lat="1"' + b" " * xmlspace.RUN
     + b'lon="2"/>'),
    # Not whitespace to XML: never touched.
    (b"<n>\x0c\x0c\x0c</n>", b"<n>\x0c\x0c\x0c</n>"),
])
def test_squeeze_cuts_runs_as_the_module_says(given, squeezed):
    assert xmlspace.squeeze(given) == squeezed


@pytest.mark.parametrize("given", [
    b"  <a>\n   <b>x   y</b>" + b" " * 200 + b"<c>" + b"\n" * 70 + b"z" + b" " * 3 + b"</c></a>  ",
    b"<a>" + b"\t" * 500 + b"</a>",
    b"<a>q" + b" " * 130 + b"\x0c" + b" " * 130 + b"r</a>\n\n",
])
def test_squeezing_in_chunks_is_squeezing_the_whole(given):
    # Whatever the chunks (down to a byte), the runs that cross them are cut alike.
    whole = b"".join(xmlspace.squeezed([given]))
    assert whole == xmlspace.squeeze(given)
    for size in (1, 2, 3, 7, 64, 65, 66, 129):
        chunks = [given[at:at + size] for at in range(0, len(given), size)]
        assert b"".join(xmlspace.squeezed(chunks)) == whole, size


def test_the_counter_sees_tags_split_between_chunks():
    data = b"<trkseg>" + b'<trkpt lat="1" lon="2"></trkpt>' * 50 + b"</trkseg>"
    for size in (1, 5, 6, 7, 11, 4096):
        counter = xmlspace.Counter()
        for at in range(0, len(data), size):
            counter.add(data[at:at + size])
        assert counter.points == 50, size
    counter = xmlspace.Counter()
    counter.add(factories.tcx(points=30))
    assert counter.points == 30


def squeezed(content: bytes) -> tuple[str, bytes]:
    """What the decoders read of `content` gzipped, squeezed from its first byte on (as a
    gzip inflating past sniff.SQUEEZE_FROM is)."""
    return sniff.unwrap(gzip.compress(content), max_inflated=1 << 30, squeeze_from=0)


def _same_track(content: bytes, fmt: str) -> None:
    plain = decode.decode(content, fmt)
    squeezed_fmt, less = squeezed(content)
    assert squeezed_fmt == fmt and len(less) <= len(content)
    assert tracks.encode(decode.decode(less, fmt)) == tracks.encode(plain)


@pytest.mark.corpus
def test_every_corpus_gpx_decodes_to_the_same_track_squeezed():
    folder = require_corpus()
    checked = 0
    for row in rows():
        if row["format"] != sniff.GPX:
            continue
        content = Path(folder, row["file"]).read_bytes()
        try:
            decode.decode(content, row["format"])
        except DecodeError as error:
            # Then the squeezed bytes fail the same way (a sentence naming a line and
            # column may name others: squeezing moves them).
            with pytest.raises(DecodeError) as refused:
                decode.decode(squeezed(content)[1], row["format"])
            assert refused.value.code == error.code
        else:
            _same_track(content, row["format"])
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize("content", [
    factories.gpx(points=300, seed=3), factories.tcx(points=300, seed=3),
    (FILES / "two_tracks.gpx").read_bytes(), (FILES / "no_times.gpx").read_bytes(),
], ids=["generated-gpx", "generated-tcx", "two-tracks", "no-times"])
def test_test_files_decode_to_the_same_track_squeezed(content):
    _same_track(content, sniff.detect(content))


def test_a_fit_file_inflates_byte_for_byte():
    content = factories.fit(points=500)
    assert squeezed(content) == (sniff.FIT, content)


def test_a_gzip_of_a_usual_size_inflates_byte_for_byte():
    content = b"<gpx>\n" + b"  <trk>\n" * 5000 + b"</gpx>"
    assert sniff.unwrap(gzip.compress(content), max_inflated=1 << 30) == (sniff.GPX, content)
    at_limit = sniff.unwrap(gzip.compress(content), max_inflated=1 << 30,
                            squeeze_from=len(content))
    assert at_limit == (sniff.GPX, content)
    past = sniff.unwrap(gzip.compress(content), max_inflated=1 << 30,
                        squeeze_from=len(content) - 1)
    assert past == (sniff.GPX, xmlspace.squeeze(content))


def test_too_many_points_is_a_permanent_failure_with_a_sentence(monkeypatch):
    content = factories.gpx(points=300)
    # Counted while the gzip inflates, before anything parses it.
    with pytest.raises(sniff.TooManyPoints):
        sniff.unwrap(gzip.compress(content), max_inflated=1 << 30, max_points=299)
    assert sniff.unwrap(gzip.compress(content), max_inflated=1 << 30, max_points=300)
    monkeypatch.setattr(decode, "MAX_POINTS", 299)
    for original in (content, gzip.compress(content), factories.fit(points=300),
                     factories.tcx(points=300)):
        with pytest.raises(DeriveError) as refused:
            track_deriver.build_track(original)
        assert refused.value.code == "TooManyPoints" and refused.value.permanent
        assert str(refused.value) == ("This file holds more than 299 track points, more "
                                      "than Cairn takes for one activity.")
    monkeypatch.setattr(decode, "MAX_POINTS", 300)
    assert track_deriver.build_track(content).n == 300
