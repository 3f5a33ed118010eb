"""core.decode.fastfit: fit.py's Track by a faster road, or Unsupported (fitparse decides)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
from fitparse.records import BASE_TYPES

from core import decode
from core.decode import Unsupported, fastfit, fit, fitprofile
from tests import fitwriter as fw
from tests.unit.decode import fitlayouts
from tests.unit.decode.outcomes import differences, outcome

FILES = Path(__file__).resolve().parents[2] / "files"
T0 = 1714543200.0  # 2024-05-01T06:00:00Z
FIT_T0 = int(T0) - fw.FIT_EPOCH


def record_definition(local: int, fields: list[tuple[int, int, int]], *,
                      endian: str = "<") -> bytes:
    """A record definition: (field number, size, base type) each."""
    out = struct.pack("<BBB", 0x40 | local, 0, endian == ">")
    out += struct.pack(endian + "HB", 20, len(fields))
    return out + b"".join(struct.pack("<3B", *field) for field in fields)


def activity(body: bytes) -> bytes:
    return fw.wrap(fw.messages(0, 0, {"type": fw.FILE_ID_FIELDS["type"]}, {"type": [4]}) + body)


def assert_same_as_reference(content: bytes):
    got = fastfit.decode(content)
    assert not differences(got, outcome(fit.decode, content))
    return got


def test_compressed_timestamps_roll_over_the_5_bit_counter():
    steps = [0, 31, 1, 30, 2, 29, 0, 17, 31, 31]
    times = T0 + np.cumsum(steps)
    data = fw.activity({"time": times, "lat": np.full(10, 46.0), "lon": np.full(10, 14.0)},
                       compressed_timestamps=True)
    assert assert_same_as_reference(data).time.tolist() == times.tolist()


def test_compressed_timestamps_count_from_the_last_timestamp_of_any_message():
    # An event (global 21) sets the clock; the records after it carry only 5-bit offsets.
    event = struct.pack("<BBBHB", 0x40 | 3, 0, 0, 21, 1) + struct.pack("<3B", 253, 4, 0x86)
    event += struct.pack("<BI", 3, FIT_T0 + 40)
    records = record_definition(1, [(3, 1, 0x02)])
    offsets = [(FIT_T0 + 40 + k) & 0x1F for k in (1, 2, 30, 33)]
    records += b"".join(struct.pack("<BB", 0x80 | 1 << 5 | offset, 150) for offset in offsets)
    track = assert_same_as_reference(activity(event + records))
    assert track.time.tolist() == [T0 + 41, T0 + 42, T0 + 70, T0 + 73]


@pytest.mark.parametrize(("fields", "expected"), [
    # altitude (2) first: fitparse gives its enhanced_altitude component first, and it wins
    ([(2, 2, 0x84), (78, 4, 0x86)], 20.0),
    # enhanced_altitude (78) first: the file's own value wins
    ([(78, 4, 0x86), (2, 2, 0x84)], 100.0),
])
def test_altitude_components_and_fields_are_taken_in_fitparses_order(fields, expected):
    values = {2: struct.pack("<H", 2600), 78: struct.pack("<I", 3000)}  # 20 m and 100 m
    body = record_definition(1, [(253, 4, 0x86), *fields])
    body += b"\x01" + struct.pack("<I", FIT_T0) + b"".join(values[n] for n, _, _ in fields)
    assert assert_same_as_reference(activity(body)).ele.tolist() == [expected]


def test_a_component_keeps_only_its_bits():
    # speed stored as uint32: fitparse's enhanced_speed component takes its low 16 bits.
    body = record_definition(1, [(253, 4, 0x86), (6, 4, 0x86)])
    body += b"\x01" + struct.pack("<II", FIT_T0, 0x1_2710)
    assert assert_same_as_reference(activity(body)).speed.tolist() == [10.0]


def test_big_endian_definitions_read_the_same():
    fields = [(253, 4, 0x86), (0, 4, 0x85), (1, 4, 0x85), (3, 1, 0x02), (53, 1, 0x02),
              (4, 1, 0x02)]
    body = record_definition(1, fields, endian=">")
    body += b"\x01" + struct.pack(">IiiBBB", FIT_T0, 548_741_120, 167_026_688, 141, 64, 88)
    track = assert_same_as_reference(activity(body))
    assert (track.hr[0], track.cadence[0]) == (141, 88.5)


def test_invalid_values_are_those_of_fitparses_base_types():
    by_name = {base.name: base for base in BASE_TYPES.values()}
    for name, invalid in fitprofile.INVALID.items():
        assert by_name[name].parse(invalid) is None
        assert by_name[name].parse(invalid ^ 1) is not None


def test_a_layout_it_does_not_reproduce_goes_to_the_reference():
    # compressed_speed_distance: a 3-byte field whose distance component accumulates.
    body = record_definition(1, [(253, 4, 0x86), (8, 3, 0x0D)])
    body += b"".join(b"\x01" + struct.pack("<I", FIT_T0 + k) + bytes([k * 16, 0, k])
                     for k in range(5))
    data = activity(body)
    with pytest.raises(Unsupported):
        fastfit.decode(data)
    assert not differences(decode.decode(data, "fit"), fit.decode(data))


def test_damaged_files_decode_or_are_refused_as_the_reference_does():
    original = (FILES / "tiny_run.fit").read_bytes()
    rng = random.Random(20240502)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
        found = differences(outcome(lambda c: decode.decode(c, "fit"), data),
                            outcome(fit.decode, data))
        assert not found, data.hex()


def test_unusual_layouts_decode_as_the_reference_decodes_them():
    answered = 0
    for seed in range(300):
        data = fitlayouts.fit_file(seed)
        want = outcome(fit.decode, data)
        try:
            got = outcome(fastfit.decode, data)
        except Unsupported:
            continue
        answered += 1
        assert not differences(got, want), seed
    assert answered >= 50  # the fast path reads most of them itself
