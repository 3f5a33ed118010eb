"""What kind of FIT file this is (activity, settings, monitoring, ...) and when it was
made, read from its first file_id message without decoding the rest: archive expansion
skips non-activity files this way at a few microseconds each, and matches a file to an
export's list by the time it was made when its name does not say."""

from __future__ import annotations

import struct

#: file_id.type values (FIT profile, "file" enum) that matter when sorting an export.
FILE_TYPES = {
    1: "device", 2: "settings", 3: "sport", 4: "activity", 5: "workout", 6: "course",
    7: "schedules", 9: "weight", 10: "totals", 11: "goals", 14: "blood_pressure",
    15: "monitoring_a", 20: "activity_summary", 28: "monitoring_daily", 32: "monitoring_b",
    34: "segment", 35: "segment_list",
}

_FILE_ID = 0  # global message number of file_id
_TYPE_FIELD = 0  # file_id.type's field number
_TIME_FIELD = 4  # file_id.time_created's (uint32, seconds since the FIT epoch)
_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
_ABSOLUTE = 0x10000000  # date_time values below this are relative (the FIT profile)
_MAX_MESSAGES = 16  # file_id comes first; give up soon on anything else


def file_type(content: bytes) -> str | None:
    """The file_id type's name ("activity", "settings", ...), or None when the file does
    not say (or is not FIT, or is cut short): then it is decoded like any upload."""
    try:
        found = _scan(content)
    except (IndexError, KeyError, struct.error):
        return None
    if found is None or found[0] is None:
        return None
    code = found[0]
    return FILE_TYPES.get(code, f"type {code}")


def time_created(content: bytes) -> int | None:
    """When the file says it was made (file_id.time_created, Unix seconds; a device sets
    it as the recording starts), or None when it does not say."""
    try:
        found = _scan(content)
    except (IndexError, KeyError, struct.error):
        return None
    if found is None or found[1] is None or not _ABSOLUTE <= found[1] < 0xFFFFFFFF:
        return None  # absent, invalid, or counted from the device's power-on
    return found[1] + _FIT_EPOCH


def _scan(content: bytes) -> tuple[int | None, int | None] | None:
    """(file_id.type, file_id.time_created) as stored, either None when absent; None
    when no file_id comes first."""
    offset = content[0]  # the header's size
    definitions: dict[int, tuple] = {}  # local type -> (endian, message, fields at, size)
    for _ in range(_MAX_MESSAGES):
        header = content[offset]
        offset += 1
        if header & 0x80:  # compressed timestamp header: a data message
            local = (header >> 5) & 0x03
        elif header & 0x40:  # definition message
            offset = _define(content, offset, header, definitions)
            continue
        else:
            local = header & 0x0F
        endian, global_number, (type_at, time_at), size = definitions[local]
        if global_number == _FILE_ID:
            code = None if type_at is None else content[offset + type_at]
            created = (None if time_at is None
                       else struct.unpack_from(endian + "I", content, offset + time_at)[0])
            return code, created
        offset += size
    return None


def _define(content: bytes, offset: int, header: int, definitions: dict) -> int:
    endian = ">" if content[offset + 1] else "<"
    (global_number,) = struct.unpack_from(endian + "H", content, offset + 2)
    count = content[offset + 4]
    offset += 5
    size, type_at, time_at = 0, None, None
    for _ in range(count):
        number, width = content[offset], content[offset + 1]
        if number == _TYPE_FIELD:
            type_at = size
        elif number == _TIME_FIELD and width == 4:
            time_at = size
        size += width
        offset += 3
    if header & 0x20:  # developer fields follow
        for _ in range(content[offset]):
            size += content[offset + 2]
            offset += 3
        offset += 1
    definitions[header & 0x0F] = (endian, global_number, (type_at, time_at), size)
    return offset
