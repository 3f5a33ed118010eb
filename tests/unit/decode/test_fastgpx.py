"""core.decode.fastgpx: gpx.py's Track by a faster road, or Unsupported (gpxpy decides)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from gpxpy.gpxfield import TIME_TYPE

from core import decode
from core.decode import Unsupported, fastgpx, gpx, gpxextensions, gpxregex, gpxtime
from tests import factories
from tests.unit.decode.outcomes import differences, outcome

FILES = Path(__file__).resolve().parents[2] / "files"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="{v}" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">')
POINT = ('<trkpt lat="46.0{i}" lon="14.0{i}"><ele>30{i}.5</ele>'
         '<time>2024-05-01T06:00:0{i}Z</time><extensions><gpxtpx:TrackPointExtension>'
         '<gpxtpx:hr>12{i}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>')


def document(points: str = "", *, version: str = "1.1", before: str = "",
             track: str = "") -> bytes:
    plain = "\n".join(POINT.format(i=i) for i in range(3))
    return (HEAD.format(v=version) + before + f"<trk>{track}<trkseg>{points or plain}"
            "</trkseg></trk></gpx>").encode()


def with_point(point: str, **kwargs) -> bytes:
    return document(POINT.format(i=1) + "\n" + point + "\n" + POINT.format(i=2), **kwargs)


def same_as_reference(content: bytes) -> list[str]:
    return differences(outcome(lambda c: decode.decode(c, "gpx"), content),
                       outcome(gpx.decode, content))


# Each case is a document gpxpy reads in its own way; the fast path must agree, whether
# it reads the document itself or hands it over.
CASES = {
    "plain": document(),
    "windows line ends": document().replace(b"\n", b"\r\n"),
    "lon before lat": with_point('<trkpt lon="14.5" lat="46.5"><ele>1</ele></trkpt>'),
    "single quotes": with_point("<trkpt lat='46.5' lon='14.5'/>"),
    "time first": with_point('<trkpt lat="46.5" lon="14.5"><time>2024-05-01T06:00:05Z'
                             "</time><ele>5</ele></trkpt>"),
    "fraction": with_point('<trkpt lat="1" lon="1"><time>2024-05-01T06:00:05.1234567Z'
                           "</time></trkpt>"),
    "offset": with_point('<trkpt lat="1" lon="1"><time>2024-05-01T08:00:05+02:00</time>'
                         "</trkpt>"),
    "no zone": with_point('<trkpt lat="1" lon="1"><time>2024-05-01T06:00:05</time></trkpt>'),
    "before 1980": with_point('<trkpt lat="1" lon="1"><time>1979-12-31T23:59:59Z</time>'
                              "</trkpt>"),
    "no such day": with_point('<trkpt lat="1" lon="1"><time>2023-02-29T06:00:05Z</time>'
                              "</trkpt>"),
    "hour 24": with_point('<trkpt lat="1" lon="1"><time>2024-05-01T24:00:00Z</time>'
                          "</trkpt>"),
    "newline in time": with_point('<trkpt lat="1" lon="1"><time>2024-05-01T06:00:05Z\n'
                                  "</time></trkpt>"),
    "empty elements": with_point('<trkpt lat="1" lon="1"><ele></ele><time></time>'
                                 "<extensions></extensions></trkpt>"),
    "self-closing ele": with_point('<trkpt lat="1" lon="1"><ele/></trkpt>'),
    "spaced numbers": with_point('<trkpt lat=" 46.5 " lon="14.5"><ele> 12 </ele></trkpt>'),
    "nan and inf": with_point('<trkpt lat="nan" lon="inf"><ele>-inf</ele></trkpt>'),
    "arabic digits": with_point('<trkpt lat="46" lon="14"><ele>\u0663\u0664</ele></trkpt>'),
    "character reference": with_point('<trkpt lat="46" lon="14"><ele>&#49;2</ele></trkpt>'),
    "bad elevation": with_point('<trkpt lat="46" lon="14"><ele>high</ele></trkpt>'),
    "empty latitude": with_point('<trkpt lat="" lon="14"/>'),
    "other leaves": with_point('<trkpt lat="1" lon="1"><name>x</name><ele>5</ele>'
                               "<sat>7</sat><hdop>1.5</hdop><fix>3d</fix></trkpt>"),
    "bad sat": with_point('<trkpt lat="1" lon="1"><sat>seven</sat></trkpt>'),
    "bad fix": with_point('<trkpt lat="1" lon="1"><fix> 3d</fix></trkpt>'),
    "speed in 1.1": with_point('<trkpt lat="1" lon="1"><speed>fast</speed></trkpt>'),
    "speed in 1.0": with_point('<trkpt lat="1" lon="1"><speed>4.5</speed>'
                               "<course>90</course></trkpt>", version="1.0"),
    "bad course in 1.0": with_point('<trkpt lat="1" lon="1"><course>east</course></trkpt>',
                                    version="1.0"),
    "extension shapes": with_point(
        '<trkpt lat="1" lon="1"><extensions><Power>250</Power><hr/><x:HR xmlns:x="u">'
        "abc</x:HR><x:hr xmlns:x='u'>99<y>1</y></x:hr><watts>1</watts><speed>3</speed>"
        "</extensions></trkpt>"),
    "extension attributes": with_point(
        '<trkpt lat="1" lon="1"><extensions><hr a=">">88</hr></extensions></trkpt>'),
    "extension namespace": with_point(
        '<trkpt lat="1" lon="1"><extensions><e xmlns="urn:x"><cad>77</cad></e>'
        "</extensions></trkpt>"),
    "two extensions": with_point('<trkpt lat="1" lon="1"><extensions>none</extensions>'
                                 "<extensions><hr>90</hr></extensions></trkpt>"),
    "repeated leaf": with_point('<trkpt lat="1" lon="1"><ele>1</ele><ele>2</ele></trkpt>'),
    "point outside a segment": document(track='<trkpt lat="5" lon="5"/>'),
    "point in extensions": with_point('<trkpt lat="1" lon="1"><extensions><trkpt lat="2" '
                                      'lon="2"/></extensions></trkpt>'),
    "namespaced track": document().replace(b"<trk>", b'<trk xmlns="urn:other">'),
    "no default namespace": document().replace(b'xmlns="http://www.topografix.com/GPX/1/1"',
                                               b""),
    "comment": document(before="<!-- exported -->"),
    "processing instruction": document(before="<?style x?>"),
    "cdata": with_point('<trkpt lat="1" lon="1"><name><![CDATA[<x>]]></name></trkpt>'),
    "bad waypoint": document(before='<wpt lat="north" lon="1"/>'),
    "bad route number": document(before="<rte><number>two</number></rte>"),
    "bad bounds": document(before='<metadata><bounds minlat="x"/></metadata>'),
    "non-ascii name": document(track="<name>Škofja Loka 🌞</name>"),
    "track type": document(track="<type> Cycling </type>"),
    "doctype": document().replace(b"<gpx ", b"<!DOCTYPE gpx><gpx ", 1),
    "bad xml": document().replace(b"</trkseg>", b""),
    "latin-1": document(track="<name>Café</name>").replace(b"UTF-8", b"ISO-8859-1")
    .replace("é".encode(), "é".encode("latin-1")),
}


@pytest.mark.parametrize("case", CASES)
def test_documents_decode_as_the_reference_decodes_them(case):
    assert not same_as_reference(CASES[case])


@pytest.mark.parametrize("case", ["plain", "windows line ends", "time first", "fraction",
                                  "other leaves", "speed in 1.0", "extension shapes",
                                  "extension attributes", "comment", "lon before lat",
                                  "non-ascii name", "latin-1"])
def test_the_fast_path_reads_common_variations_itself(case):
    fastgpx.decode(CASES[case])  # no Unsupported


@pytest.mark.parametrize("case", CASES)
def test_documents_read_in_small_chunks_decode_as_the_reference_decodes_them(case,
                                                                            monkeypatch):
    """gpxregex reads a file in spans of about _CHUNK bytes, each cut before a "<trkpt":
    spans of a few dozen bytes put a cut at every point and across the declaration gpxpy
    deletes, and nothing may change."""
    monkeypatch.setattr(gpxregex, "_CHUNK", 37)
    assert not same_as_reference(CASES[case])


@pytest.mark.parametrize("case", ["plain", "other leaves", "extension shapes", "non-ascii name"])
def test_the_fast_path_reads_small_chunks_itself(case, monkeypatch):
    whole = fastgpx.decode(CASES[case])
    monkeypatch.setattr(gpxregex, "_CHUNK", 37)
    content = CASES[case]
    assert gpxregex.read(content, fastgpx.default_namespace(content)) is not None
    assert not differences(outcome(fastgpx.decode, CASES[case]),
                           outcome(lambda _: whole, CASES[case]))


def test_the_namespace_declaration_gpxpy_deletes_is_found_in_utf8_bytes_too():
    assert set(fastgpx.SPACES) == {chr(c) for c in range(0x110000) if chr(c).isspace()}
    for space in [*fastgpx.SPACES, "é", "x"]:
        for text in (f'<gpx><name>é{space}xmlns="x"</name><trk xmlns="y"/></gpx>',
                     f'<gpx a="{space}xmlns=" xmlns="y"/>', f"<gpx{space}xmlns=''/>"):
            start, end = fastgpx.default_namespace(text.encode()) or (0, 0)
            found = fastgpx._DEFAULT_NAMESPACE.search(text)
            expected = found.span() if found else (0, 0)
            encoded = text.encode()
            assert (encoded[:start].decode(), encoded[start:end].decode()) == (
                text[:expected[0]], text[expected[0]:expected[1]])


def test_both_readings_give_the_same_track():
    content = factories.gpx(points=300, seed=7)
    regex = fastgpx.decode(content)
    streamed = fastgpx.decode(content.replace(b"<trk>", b"<!-- streamed --><trk>"))
    assert not differences(regex, streamed)


def test_a_file_without_track_points_goes_to_the_reference():
    content = (FILES / "route_and_waypoints.gpx").read_bytes()
    with pytest.raises(Unsupported):
        fastgpx.decode(content)
    assert outcome(lambda c: decode.decode(c, "gpx"), content)[0] == "NoPoints"


@pytest.mark.parametrize("text", [
    "2024-05-01T06:00:05Z", "2024-05-01T06:00:05.5Z", "2024-05-01T06:00:05.0000001Z",
    "2024-5-1T6:0:5Z", "2024-05-01 06:00:05Z", "2024-05-01T06:00:05-0130", "2024-05-01T06:00:05+05",
    "2024-05-01T06:00:05\u221202:00", "2024-05-01T06:00:05A12", "1901-12-13T20:45:52Z",
    "2024-02-30T00:00:00Z", "2024-05-01T23:59:60Z", "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-02:00", "", " 2024-05-01T06:00:05Z", "2024-05-01T06:00:05Z\n",
    "2024-05-01T06:00:05Z ", "２０２４-05-01T06:00:05Z", "nonsense", None,
])
def test_times_read_as_gpxpy_reads_them(text):
    want = gpx._epoch(TIME_TYPE.from_string(text))
    for texts in ([text], [text.encode() if text is not None else None] * 3,
                  [text, "2024-05-01T06:00:05Z"]):
        got = gpxtime.epochs(texts)[0]
        assert got == want or (got != got and want != want)


@pytest.mark.parametrize("blocks", [
    [b"<a:hr>120</a:hr><a:cad>80</a:cad>", None, b"<a:hr>nan</a:hr><a:hr>121</a:hr>"],
    [b"<p>1</p><T><HR>9</HR><hr>8</hr></T>", b"<T><HR>7</HR></T>", b"<Speed>2</Speed>"] * 5,
    [b"<hr/><hr>5</hr>", b"<hr></hr>", b"<hr>x</hr><hr>6</hr>", b"<watts>3<w>1</w></watts>"],
])
def test_extension_values_are_gpx_extensions(blocks):
    found = gpxextensions.values(blocks, [])
    for i, block in enumerate(blocks):
        root = ElementTree.fromstring(b'<e xmlns:a="urn:a">' + (block or b"") + b"</e>")
        want = gpx._extensions(list(root))
        for column, name in (("hr", "hr"), ("cadence", "cadence"), ("power", "power"),
                             ("ext_speed", "speed")):
            assert np.array_equal(found[column][i], want.get(name, np.nan), equal_nan=True)


def test_mutated_documents_decode_as_the_reference_decodes_them():
    rng = random.Random(20240503)
    sources = [document(), CASES["speed in 1.0"], CASES["other leaves"],
               (FILES / "two_tracks.gpx").read_bytes()]
    snippets = ["<!--c-->", "&amp;", "<ele>5</ele>", "<ele/>", "<speed>x</speed>", "\r\n",
                "<extensions><hr>1</hr></extensions>", '<trkpt lat="1" lon="2"/>',
                "<sat>1.5</sat>", "<time>2020-13-01T00:00:00Z</time>", ' xmlns="x"',
                "<type>Run</type>", "<trkseg></trkseg>", "<hr>99</hr>", "<cad/>"]
    for _ in range(300):
        text = rng.choice(sources).decode()
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.5:
                numbers = list(re.finditer(r'(?<=[">])[-+0-9.:TZ]+(?=[<"])', text))
                found = rng.choice(numbers)
                text = (text[:found.start()] + rng.choice(["", " ", "nan", "1e400", "x",
                                                           "1_0", "+5", "0"])
                        + text[found.end():])
            else:
                at = rng.choice([m.end() for m in re.finditer(">", text)])
                text = text[:at] + rng.choice(snippets) + text[at:]
        assert not same_as_reference(text.encode()), text
