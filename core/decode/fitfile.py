"""fitparse's FitFile, adjusted for one streaming pass over real-world files."""

# fitparse 1.2.0 is the reference FIT decoder, but as shipped it keeps every message in
# memory (a day-long ride holds hundreds of MB), converts every field through processors
# Cairn does not use, keeps developer field types in a module global shared by every file,
# and gives up on a whole file for one field whose declared size does not fit its type.
# This subclass changes those four things and nothing else. It relies on fitparse's
# private methods, which pyproject's "fitparse<2" pin protects.

from __future__ import annotations

import io
from collections.abc import Iterator

import fitparse
from fitparse import records
from fitparse.base import MESSAGE_TYPES
from fitparse.processors import FitFileDataProcessor
from fitparse.records import (
    BASE_TYPE_BYTE,
    BASE_TYPES,
    DataMessage,
    DefinitionMessage,
    DevField,
    DevFieldDefinition,
    FieldDefinition,
)
from fitparse.utils import FitParseError

#: FIT date_time values count seconds from 1989-12-31T00:00:00Z.
FIT_EPOCH = 631065600


class _RawValues(FitFileDataProcessor):
    """Leave values as fitparse scaled them: date_time stays a FIT-epoch integer.

    The default processor turns times into naive datetimes and looks up a processor
    method per field (an AttributeError per miss), about a third of the decoding time.
    """

    def run_type_processor(self, field_data):
        pass

    def run_field_processor(self, field_data):
        pass

    def run_unit_processor(self, field_data):
        pass

    def run_message_processor(self, data_message):
        pass


class FitFile(fitparse.FitFile):
    """Read FIT bytes once, front to back; `headers_read` counts chained files so far."""

    def __init__(self, content: bytes) -> None:
        self.headers_read = 0
        # Developer field types live in a fitparse module global: without this, whether a
        # file decodes could depend on which file this process read before it.
        records.DEV_TYPES.clear()
        # check_crc=False: see core/decode/fit.py for why a bad CRC alone is not fatal.
        super().__init__(io.BytesIO(content), check_crc=False, data_processor=_RawValues())

    def data_messages(self) -> Iterator[DataMessage]:
        """Every data message, in file order, keeping none of them in memory."""
        while not self._complete:
            message = self._parse_message()
            self._messages.clear()
            if message is not None and message.type == "data":
                yield message

    def _parse_file_header(self):
        super()._parse_file_header()
        self.headers_read += 1

    def _parse_definition_message(self, header):
        """fitparse's own, except that a field that cannot be read is skipped, not fatal.

        A field whose size is not a multiple of its base type's size (a COROS firmware
        writes a 1-byte uint32) is read as plain bytes and left without meaning, as the
        FIT SDK does; so is a developer field whose description is missing or malformed.
        """
        endian = ">" if self._read_struct("xB") else "<"
        global_mesg_num, num_fields = self._read_struct("HB", endian=endian)
        mesg_type = MESSAGE_TYPES.get(global_mesg_num)
        field_defs = []
        for _ in range(num_fields):
            field_def_num, field_size, base_type_num = self._read_struct("3B", endian=endian)
            field = mesg_type.fields.get(field_def_num) if mesg_type else None
            base_type = BASE_TYPES.get(base_type_num, BASE_TYPE_BYTE)
            if field_size % base_type.size != 0:
                field, base_type = None, BASE_TYPE_BYTE
            if field and field.components:
                for component in field.components:
                    if component.accumulate:
                        accumulators = self._accumulators.setdefault(global_mesg_num, {})
                        accumulators[component.def_num] = 0
            field_defs.append(FieldDefinition(field=field, def_num=field_def_num,
                                              base_type=base_type, size=field_size))
        dev_field_defs = []
        if header.is_developer_data:
            for _ in range(self._read_struct("B", endian=endian)):
                field_def_num, field_size, dev_data_index = self._read_struct("3B", endian=endian)
                dev_field_defs.append(DevFieldDefinition(
                    field=_dev_field(dev_data_index, field_def_num, field_size),
                    dev_data_index=dev_data_index, def_num=field_def_num, size=field_size))
        def_mesg = DefinitionMessage(header=header, endian=endian, mesg_type=mesg_type,
                                     mesg_num=global_mesg_num, field_defs=field_defs,
                                     dev_field_defs=dev_field_defs)
        self._local_mesgs[header.local_mesg_num] = def_mesg
        return def_mesg


def _dev_field(dev_data_index: int, def_num: int, size: int) -> DevField:
    try:
        field = records.get_dev_type(dev_data_index, def_num)
    except FitParseError:
        field = None
    if field is None or size % field.type.size != 0:
        # Cairn reads no developer field: keep only what it takes to skip the bytes.
        field = DevField(dev_data_index=dev_data_index, def_num=def_num, type=BASE_TYPE_BYTE,
                         name=f"unknown_dev_{dev_data_index}_{def_num}", units=None,
                         native_field_num=None)
    return field
