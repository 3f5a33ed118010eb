"""FIT bytes -> Track, fast: the same Track as core/decode/fit.py, or Unsupported.

fitparse builds Python objects for every field of every message, about 40 µs a record.
This reader walks the message headers only, takes each run of consecutive records of one
definition as a single slice, and decodes every record of a definition at once with a
numpy structured dtype. The few messages whose content matters beyond records (file_id,
sport, session, lap, developer declarations) go through fitparse's own code one at a time.

Whatever it cannot reproduce exactly raises Unsupported, and core.decode falls back to the
reference decoder, which also decides every damaged file: a message that runs past the
data, an undefined local type, a missing CRC, trailing bytes, or a field layout noted in
fitprofile.py.
"""

from __future__ import annotations

import io
import struct
from array import array

import fitparse
import numpy as np
from fitparse.records import MessageHeader

from core.decode import Unsupported, fit
from core.decode.fitfile import _RawValues
from core.decode.fitprofile import Definition, compile_definition
from core.decode.fitrecords import decode_records
from core.track import Track

_DATA_SIZE = struct.Struct("<I")


def decode(content: bytes) -> Track:
    """FIT file bytes -> Track, DecodeError as fit.py gives it, or Unsupported."""
    scanner = _Scanner(content)
    try:
        scanner.scan()
        columns = decode_records(content, scanner.runs, scanner.compressed,
                                 scanner.n_records)
    except (Unsupported, MemoryError):  # the reference needs more memory, not less
        raise
    except Exception as error:  # an inconsistency: let the reference judge the file
        raise Unsupported(f"{type(error).__name__}: {error}") from error
    scan = fit._Scan(file_starts=scanner.file_starts, file_types=scanner.file_types,
                     sessions=scanner.sessions, laps=scanner.laps, sports=scanner.sports)
    # fit.py's own checks and assembly, so that messages and post-processing stay one code.
    scan.columns["time"] = array("d", columns["time"][:1])
    fit._check_is_activity(scan)
    scan.columns = columns
    return fit._build(scan)


class _Scanner:
    """One pass over the message headers of every chained file."""

    def __init__(self, content: bytes) -> None:
        self.buf = content
        self.u8 = np.frombuffer(content, np.uint8)
        self.runs: list[tuple[int, int, Definition]] = []  # record runs: start, count, def
        self.compressed: list[tuple[int, np.ndarray]] = []  # first record, its timestamps
        self.n_records = 0
        self.file_starts: list[int] = []
        self.file_types: list[object] = []
        self.sessions: list = []
        self.laps: list = []
        self.sports: list[str] = []
        self.dev_indices: set = set()  # fitparse's DEV_TYPES keys, for its checks
        self.reader = _MessageReader()
        self.cache: dict[bytes, Definition] = {}
        self.new_file = False
        self.acc = 0
        self.pending: list[tuple[int, int, Definition]] = []  # timestamped runs since acc

    def scan(self) -> None:
        pos = 0
        while True:
            pos = self._file(pos)
            if pos == len(self.buf):
                return
            self.new_file = True  # fit.py: a chained file's first record starts a segment

    def _file(self, pos: int) -> int:
        """Read one FIT file from `pos`; return where the next one starts."""
        buf = self.buf
        if len(buf) - pos < 12 or buf[pos + 8: pos + 12] != b".FIT":
            raise Unsupported("no FIT header")
        header_size = buf[pos]
        if header_size != 12 and header_size < 14:
            raise Unsupported("irregular header size")
        pos, end = pos + header_size, pos + header_size + _DATA_SIZE.unpack_from(buf, pos + 4)[0]
        if end + 2 > len(buf):
            raise Unsupported("data or CRC past the end of the file")
        self.acc, self.pending, self.reader._accumulators = 0, [], {}
        defs: list[Definition | None] = [None] * 16
        runs, pending = self.runs, self.pending
        while pos < end:
            h = buf[pos]
            if h & 0x80:  # compressed timestamp header: local type in bits 5-6
                definition, mask = defs[(h >> 5) & 3], 0xE0
            elif h & 0x40:
                pos = self._definition(pos, h, defs)
                continue
            else:
                definition, mask = defs[h & 0x0F], 0xFF
            if definition is None:
                raise Unsupported("data message of an undefined local type")
            if definition.unsupported:
                raise Unsupported(definition.unsupported)
            size = definition.size
            following = pos + size
            if following < end and buf[following] & mask == h & mask:
                count = self._run_length(pos, h & mask, mask, size, end)
            else:
                count = 1
            if pos + count * size > end:
                raise Unsupported("a message runs past the data")
            kind = definition.kind
            if h & 0x80 or self.new_file or (kind != "record" and kind != "other"):
                self._take(definition, pos, count, h)
            else:  # the bulk of a file: plain records, and messages skipped over
                if definition.ts_fields:
                    pending.append((pos, count, definition))
                if kind == "record":
                    runs.append((pos, count, definition))
                    self.n_records += count
            pos += count * size
        if pos != end:
            raise Unsupported("a definition runs past the data")
        return end + 2

    def _definition(self, pos: int, h: int, defs: list) -> int:
        buf = self.buf
        length = 5 + 3 * buf[pos + 5]
        if h & 0x20:  # developer fields follow the standard ones
            length += 1 + 3 * buf[pos + 1 + length]
        raw = buf[pos + 1: pos + 1 + length]
        if len(raw) != length:
            raise Unsupported("definition past the end of the file")
        key = raw + (b"d" if h & 0x20 else b"")
        definition = self.cache.get(key)
        if definition is None:
            definition = self.cache[key] = compile_definition(raw, developer=bool(h & 0x20))
        if definition.accumulating and definition.kind not in ("record", "other"):
            # fitparse restarts component accumulators at each definition.
            accumulators = self.reader._accumulators.setdefault(definition.global_num, {})
            accumulators.update(dict.fromkeys(definition.accumulating, 0))
        defs[h & 0x0F] = definition
        return pos + 1 + length

    def _run_length(self, pos: int, h: int, mask: int, size: int, end: int) -> int:
        """How many messages from `pos` on share this header (and so this definition)."""
        limit, done, window = (end - pos) // size, 0, 64
        while done < limit:
            stop = min(done + window, limit)
            headers = self.u8[pos + done * size: pos + stop * size: size]
            different = np.flatnonzero((headers & mask) != h)
            if len(different):
                return done + int(different[0])
            done, window = stop, window * 4
        return max(done, 1)

    def _take(self, definition: Definition, pos: int, count: int, h: int) -> None:
        """The rarer cases: compressed timestamps, a chained file's first record, and the
        messages read with fitparse."""
        kind = definition.kind
        if kind != "record" and kind != "other":
            for i in range(count):
                start = pos + i * definition.size
                self._read_message(definition, start, self.buf[start])
            return
        times = None
        if h & 0x80:
            if definition.ts_fields:
                raise Unsupported("compressed header on a message with a timestamp")
            times = self._expand_times(pos, count, definition.size)
        elif definition.ts_fields:
            self.pending.append((pos, count, definition))
        if kind == "record":
            if self.new_file:
                self.file_starts.append(self.n_records)
                self.new_file = False
            if times is not None:
                self.compressed.append((self.n_records, times))
            self.runs.append((pos, count, definition))
            self.n_records += count

    def _expand_times(self, pos: int, count: int, size: int) -> np.ndarray:
        """Compressed timestamps: each 5-bit offset moves the accumulator forward (0-31 s)."""
        acc = self._accumulator()
        offsets = self.u8[pos: pos + count * size: size].astype(np.int64) & 0x1F
        previous = np.empty_like(offsets)
        previous[0] = acc & 0x1F
        previous[1:] = offsets[:-1]
        times = acc + np.cumsum((offsets - previous) & 0x1F)
        self.acc = int(times[-1])
        return times

    def _accumulator(self) -> int:
        """fitparse's timestamp accumulator: the last valid timestamp field read, else the
        last expanded compressed timestamp. Worked out only when a message needs it."""
        buf = self.buf
        while self.pending:
            pos, count, definition = self.pending.pop()
            for i in range(count - 1, -1, -1):
                start = pos + i * definition.size
                for offset, fmt, invalid in reversed(definition.ts_fields):
                    value = struct.unpack_from(fmt, buf, start + offset)[0]
                    if value != invalid:
                        self.acc = value
                        self.pending.clear()
                        return value
        return self.acc

    def _read_message(self, definition: Definition, start: int, h: int) -> None:
        header = MessageHeader(is_definition=False, is_developer_data=False,
                               local_mesg_num=(h >> 5) & 3 if h & 0x80 else h & 0x0F,
                               time_offset=h & 0x1F if h & 0x80 else None)
        self.reader._compressed_ts_accumulator = self._accumulator()
        message = self.reader.read(self.buf[start + 1: start + definition.size], header,
                                   definition)
        self.acc = self.reader._compressed_ts_accumulator
        kind = definition.kind
        if kind == "session":
            self.sessions.append(fit._session(fit._values(message)))
        elif kind == "lap":
            self.laps.append(fit._session(fit._values(message)))
        elif kind == "file_id":
            self.file_types.append(message.get_value("type"))
        elif kind == "sport":
            sport = message.get_value("sport")
            if isinstance(sport, str):
                self.sports.append(sport)
        elif kind == "developer_data_id":
            self.dev_indices.add(message.get_raw_value("developer_data_index"))
        else:  # field_description: fitparse refuses one naming an undeclared developer
            index = message.get_raw_value("developer_data_index")
            if index not in self.dev_indices or int(index) not in self.dev_indices:
                raise Unsupported("field description of an undeclared developer")
            if message.get_raw_value("fit_base_type_id") not in fitparse.records.BASE_TYPES:
                raise Unsupported("field description of an unknown base type")


class _MessageReader(fitparse.FitFile):
    """fitparse's data message decoding, fed one message at a time."""

    def __init__(self) -> None:  # no file to open: read() hands over each message's bytes
        self.check_crc = False
        self._processor = _RawValues()
        self._accumulators: dict = {}
        self._compressed_ts_accumulator = 0
        self._local_mesgs: dict = {}

    def read(self, payload: bytes, header: MessageHeader, definition: Definition):
        self._file, self._bytes_left = io.BytesIO(payload), len(payload)
        self._local_mesgs[header.local_mesg_num] = definition.message
        return self._parse_data_message(header)
