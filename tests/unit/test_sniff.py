"""core.sniff: what an upload is, from its bytes, and bounded gunzip."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from core import sniff

FILES = Path(__file__).resolve().parents[1] / "files"


def test_fit_is_detected_from_its_header():
    assert sniff.detect((FILES / "tiny_run.fit").read_bytes()) == sniff.FIT


def test_gpx_is_detected_from_its_root_element():
    assert sniff.detect((FILES / "two_tracks.gpx").read_bytes()) == sniff.GPX


def test_gpx_with_bom_declaration_and_comments_is_detected():
    data = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- hi -->\n<gpx version="1.1"></gpx>'
    assert sniff.detect(data) == sniff.GPX


def test_other_xml_is_neither():
    assert sniff.detect(b'<?xml version="1.0"?><kml xmlns="x"><Document/></kml>') is None


def test_tcx_is_recognised_by_its_root_element_whatever_the_prefix():
    assert sniff.detect(b'<?xml version="1.0"?><TrainingCenterDatabase/>') == sniff.TCX
    assert sniff.detect(b'\xef\xbb\xbf<!-- garmin -->\n<tcx:TrainingCenterDatabase '
                        b'xmlns:tcx="http://www.garmin.com/xmlschemas/'
                        b'TrainingCenterDatabase/v2"/>') == sniff.TCX
    payload = sniff.inspect(gzip.compress(b"<TrainingCenterDatabase/>"), max_inflated=1 << 20)
    assert (payload.format, payload.gzipped) == (sniff.TCX, True)


def test_gzipped_file_is_hashed_and_measured_by_its_content():
    content = (FILES / "two_tracks.gpx").read_bytes()
    payload = sniff.inspect(gzip.compress(content), max_inflated=1 << 20)
    plain = sniff.inspect(content, max_inflated=1 << 20)
    assert (payload.format, payload.gzipped, payload.size) == (sniff.GPX, True, len(content))
    assert payload.sha256 == plain.sha256 == hashlib.sha256(content).hexdigest()
    assert sniff.unwrap(gzip.compress(content), max_inflated=1 << 20) == (sniff.GPX, content)


def test_gpx_with_a_doctype_internal_subset_is_still_gpx():
    data = b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "b">]><gpx version="1.1"/>'
    assert sniff.detect(data) == sniff.GPX


def test_gzip_bomb_stops_at_the_limit():
    with pytest.raises(sniff.TooLarge):
        sniff.inspect(gzip.compress(b"\0" * (4 << 20)), max_inflated=1 << 20)


def test_truncated_gzip_is_refused():
    data = gzip.compress((FILES / "two_tracks.gpx").read_bytes())
    with pytest.raises(sniff.UnsupportedFile):
        sniff.inspect(data[:-12], max_inflated=1 << 20)


def test_zip_archive_is_refused_with_advice():
    with pytest.raises(sniff.UnsupportedFile, match="Zip archives"):
        sniff.inspect(b"PK\x03\x04rest", max_inflated=1 << 20)


def test_unknown_bytes_are_refused():
    with pytest.raises(sniff.UnsupportedFile, match="not FIT, GPX or TCX"):
        sniff.inspect(b"hello", max_inflated=1 << 20)
