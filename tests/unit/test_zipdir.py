"""core.zipdir: a zip's entries as zipfile would list them, counted within a bound."""

import io
import zipfile

import pytest

from core import zipdir
from tests import factories, zipcraft


def _as_zipfile_lists(data: bytes) -> list[tuple[int, int, int, bool]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return [(i.header_offset, i.compress_size, i.file_size, i.is_dir())
                for i in zipped.infolist()]


def _as_counted(data: bytes, *, limit: int = 100_000) -> list[tuple[int, int, int, bool]]:
    return [(e.offset, e.compressed, e.size, e.is_dir)
            for e in zipdir.entries(io.BytesIO(data), limit=limit)]


@pytest.mark.parametrize("data", [
    # An export with folders, deflated members and a gzipped one.
    factories.archive([("a/1.gpx", factories.gpx(seed=1)), ("b.bin", b"x" * 5000)],
                      folders=("a/",)),
    # Bytes before the archive (a self-extractor's stub): offsets shift as zipfile's do.
    b"#!/bin/sh stub\n" * 10 + factories.archive([("1.gpx", factories.gpx(seed=2))]),
    # More entries than a plain end record can count: ZIP64 end records.
    zipcraft.directory_only(70_000),
], ids=["export", "prepended", "zip64-end-record"])
def test_entries_are_the_ones_zipfile_lists(data):
    assert _as_counted(data) == _as_zipfile_lists(data)


def test_zip64_extra_fields_give_sizes_and_offsets():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("1.gpx", b"x" * 10)
    data = bytearray(buffer.getvalue())
    # Rewrite the central entry as ZIP64 writers do: 0xFFFFFFFF sizes and offset, the
    # real values in a ZIP64 extra field (size, compressed size, offset).
    end = data.rindex(b"PK\x05\x06")
    central = data.rindex(b"PK\x01\x02")
    extra = b"\x01\x00\x18\x00" + (10).to_bytes(8, "little") * 2 + (0).to_bytes(8, "little")
    entry = bytearray(data[central:end])
    entry[20:28] = b"\xff" * 8
    entry[42:46] = b"\xff" * 4
    entry[30:32] = len(extra).to_bytes(2, "little")
    entry = bytes(entry[:46 + 5]) + extra
    rebuilt = bytes(data[:central]) + entry + zipcraft.end_records(len(entry), central, 1)
    assert _as_counted(rebuilt) == _as_zipfile_lists(rebuilt) == [(0, 10, 10, False)]


def test_counting_stops_past_the_limit_whatever_the_end_record_says():
    with pytest.raises(zipdir.TooMany):
        zipdir.entries(io.BytesIO(zipcraft.directory_only(70_001)), limit=70_000)
    with pytest.raises(zipdir.TooMany) as lied_to:
        zipdir.entries(io.BytesIO(zipcraft.directory_only(5000, declared=1)), limit=100)
    assert lied_to.value.at_least == 101
    assert len(zipdir.entries(io.BytesIO(zipcraft.directory_only(100)), limit=100)) == 100


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04" + b"\0" * 100, b"PK\x05\x06"],
                         ids=["empty", "no-end-record", "short-end-record"])
def test_damaged_archives_are_named_so(data):
    with pytest.raises(zipdir.Damaged):
        zipdir.entries(io.BytesIO(data), limit=10)


def test_entries_sharing_bytes_are_found():
    shared = zipdir.entries(io.BytesIO(zipcraft.overlapping(b"x" * 1000, times=3)), limit=10)
    assert zipdir.overlapping(shared) is not None
    honest = factories.archive([(f"{i}.gpx", factories.gpx(seed=i)) for i in range(3)])
    assert zipdir.overlapping(zipdir.entries(io.BytesIO(honest), limit=10)) is None
