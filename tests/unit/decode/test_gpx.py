"""core.decode.gpx: GPX bytes -> Track, on small hand-written files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.decode import DecodeError, gpx

FILES = Path(__file__).resolve().parents[2] / "files"


def decode_file(name: str):
    return gpx.decode((FILES / name).read_bytes())


def document(points: str, *, head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (f'{head}\n<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><trkseg>{points}</trkseg></trk></gpx>").encode()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_each_nonempty_segment_of_every_track_is_a_segment():
    track = decode_file("two_tracks.gpx")
    assert track.n == 5
    assert track.segment_starts == (0, 2, 4)


def test_times_with_offsets_become_utc_epoch_seconds():
    track = decode_file("two_tracks.gpx")
    assert track.time[0] == epoch("2024-05-01T06:00:00")
    assert track.time[2] == epoch("2024-05-01T06:10:00")  # written 08:10:00+02:00


def test_time_without_zone_is_utc():
    track = gpx.decode(document('<trkpt lat="46" lon="14"><time>2024-05-01T06:00:00</time>'
                                "</trkpt>"))
    assert track.time[0] == epoch("2024-05-01T06:00:00")


def test_placeholder_time_before_gps_existed_is_missing():
    track = gpx.decode(document('<trkpt lat="46" lon="14"><time>1901-12-13T20:45:52Z</time>'
                                "</trkpt>"))
    assert np.isnan(track.time[0])


def test_points_without_times_or_elevation_get_nan():
    track = decode_file("no_times.gpx")
    assert track.n == 3
    assert not track.has("time") and not track.has("ele")
    assert track.has("lat")


def test_extensions_give_heart_rate_cadence_and_power():
    track = decode_file("two_tracks.gpx")
    assert track.hr[:2].tolist() == [120, 130]
    assert track.cadence[:2].tolist() == [80, 82]
    assert track.power[0] == 210 and np.isnan(track.power[1])
    assert np.isnan(track.hr[2:]).all()


def test_elevation_is_read():
    assert decode_file("two_tracks.gpx").ele[:4].tolist() == [300.0, 301.0, 310.0, 311.0]


def test_sport_is_the_first_track_type_lowercased():
    assert decode_file("two_tracks.gpx").sport == "running"


def test_no_track_type_means_no_sport():
    assert decode_file("no_times.gpx").sport is None


def test_byte_order_mark_is_stripped():
    content = (FILES / "no_times.gpx").read_bytes()
    assert gpx.decode(b"\xef\xbb\xbf" + content).n == 3


def test_encoding_named_by_the_declaration_is_read():
    content = document('<trkpt lat="46" lon="14"><name>Škofja Loka</name></trkpt>',
                       head='<?xml version="1.0" encoding="ISO-8859-2"?>')
    assert gpx.decode(content.decode().encode("iso-8859-2")).n == 1


def test_entity_declarations_are_refused_before_parsing():
    with pytest.raises(DecodeError) as caught:
        decode_file("entity_expansion.gpx")
    assert caught.value.code == "UnsafeXml"


def test_external_entity_is_refused():
    content = document('<trkpt lat="46" lon="14"><name>&x;</name></trkpt>',
                       head='<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM '
                            '"file:///etc/passwd">]>')
    with pytest.raises(DecodeError) as caught:
        gpx.decode(content)
    assert caught.value.code == "UnsafeXml"


def test_entities_in_a_declared_encoding_are_refused():
    content = document('<trkpt lat="46" lon="14"><name>Café &x;</name></trkpt>',
                       head='<?xml version="1.0" encoding="ISO-8859-1"?>'
                            '<!DOCTYPE gpx [<!ENTITY x "y">]>')
    with pytest.raises(DecodeError) as caught:
        gpx.decode(content.decode().encode("iso-8859-1"))  # not UTF-8: read as declared
    assert caught.value.code == "UnsafeXml"


def test_route_and_waypoints_without_track_say_what_the_file_holds():
    with pytest.raises(DecodeError) as caught:
        decode_file("route_and_waypoints.gpx")
    assert caught.value.code == "NoPoints"
    assert str(caught.value) == ("This GPX file holds a route (3 points) and 2 waypoints "
                                 "but no recorded track.")


def test_empty_document_has_no_points():
    with pytest.raises(DecodeError) as caught:
        decode_file("empty.gpx")
    assert caught.value.code == "NoPoints"
    assert str(caught.value) == "This GPX file holds no track, route or waypoint."


def test_track_without_points_has_no_points():
    with pytest.raises(DecodeError) as caught:
        gpx.decode(document(""))
    assert str(caught.value) == "This GPX file holds a track with no points."


def test_malformed_xml_is_corrupt():
    with pytest.raises(DecodeError) as caught:
        gpx.decode(document('<trkpt lat="46" lon="14"></trkseg>'))
    assert caught.value.code == "CorruptFile"


def test_non_numeric_coordinates_are_corrupt():
    with pytest.raises(DecodeError) as caught:
        gpx.decode(document('<trkpt lat="north" lon="14"/>'))
    assert caught.value.code == "CorruptFile"


def test_text_that_is_not_utf8_and_declares_nothing_is_corrupt():
    with pytest.raises(DecodeError) as caught:
        gpx.decode(document("").replace(b"<trk>", b"<trk>\xff\xfe"))
    assert caught.value.code == "CorruptFile"


def test_nan_and_out_of_range_coordinates_become_missing():
    track = decode_file("bad_coordinates.gpx")
    assert track.n == 5
    assert np.isnan(track.lat[1:4]).all() and np.isnan(track.lon[1:4]).all()
    assert track.lat[[0, 4]].tolist() == [46.0, 46.001]
    assert np.isfinite(track.time).all()  # the points stay, with what else they hold


def test_no_usable_coordinates_at_all_has_no_points():
    with pytest.raises(DecodeError) as caught:
        gpx.decode(document('<trkpt lat="91" lon="14"/><trkpt lat="NaN" lon="14"/>'))
    assert caught.value.code == "NoPoints"


def test_gpx_10_speed_element_fills_speed():
    content = (b'<?xml version="1.0"?><gpx version="1.0" creator="t" '
               b'xmlns="http://www.topografix.com/GPX/1/0"><trk><trkseg>'
               b'<trkpt lat="46" lon="14"><speed>3.5</speed></trkpt></trkseg></trk></gpx>')
    assert gpx.decode(content).speed.tolist() == [3.5]
