"""FIT definition messages compiled for the fast decoder (core/decode/fastfit.py).

A definition is compiled once into what the fast path needs: its byte layout, the
fitparse objects that read its rare messages exactly as the reference does, and for
`record` messages a plan saying which fields fill which value and how they are scaled.
Scales, offsets, components and subfields come from fitparse's profile, the same tables
the reference reads. Whatever the fast path cannot reproduce exactly is noted in
`unsupported`, and a data message using the definition then hands the file back to the
reference decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from fitparse.profile import MESSAGE_TYPES
from fitparse.records import (
    BASE_TYPE_BYTE,
    BASE_TYPES,
    DefinitionMessage,
    DevField,
    DevFieldDefinition,
    FieldDefinition,
    MessageHeader,
)

from core.decode import fit

TIMESTAMP = 253  # the field number fitparse feeds the compressed-timestamp accumulator from
RECORD = 20
#: Messages read one by one with fitparse's own code: few per file, and what they hold
#: (session and lap totals, file type, sport, developer field declarations) is irregular.
READ_BY_FITPARSE = {0: "file_id", 12: "sport", 18: "session", 19: "lap",
                    206: "field_description", 207: "developer_data_id"}
#: Record field names the reference reads (core/decode/fit.py).
WANTED = frozenset(n for names in fit._RECORD_FIELDS.values() for n in names) | {
    "fractional_cadence"}

#: Base type name -> value fitparse reads as missing (fitparse.records.BASE_TYPES), for
#: the integer types the fast path unpacks with numpy. 64-bit values stay with the
#: reference: their float conversion is not worth proving equal.
INVALID = {"enum": 0xFF, "sint8": 0x7F, "uint8": 0xFF, "sint16": 0x7FFF, "uint16": 0xFFFF,
           "sint32": 0x7FFFFFFF, "uint32": 0xFFFFFFFF, "uint8z": 0, "uint16z": 0,
           "uint32z": 0}
FLOATS = frozenset({"float32", "float64"})


@dataclass(frozen=True)
class Source:
    """One value fitparse would give a record field name: a field or a component of one."""

    name: str
    column: str  # numpy field holding the raw value
    invalid: int | None  # None: a float, missing when NaN
    scale: float | None
    offset: float | None
    bits: int | None = None  # components only: the bits taken from the raw value
    shift: int = 0


@dataclass
class Definition:
    """One compiled definition message."""

    global_num: int
    size: int  # bytes of one data message, header byte included
    message: DefinitionMessage  # the fitparse form, for messages read by fitparse
    ts_fields: list[tuple[int, str, int]] = field(default_factory=list)  # offset, fmt, invalid
    sources: list[Source] = field(default_factory=list)  # records: in fitparse's order
    dtype: np.dtype | None = None  # records: the raw fields the sources read
    accumulating: list[int] = field(default_factory=list)  # component numbers fitparse resets
    unsupported: str | None = None
    kind: str = "other"  # "record", "other" (only its timestamp matters) or a READ_BY_FITPARSE


def compile_definition(raw: bytes, *, developer: bool) -> Definition:
    """Definition message bytes (after its header byte) -> Definition, as fitfile.py reads it."""
    endian = ">" if raw[1] else "<"
    global_num = int.from_bytes(raw[2:4], "big" if raw[1] else "little")
    mesg_type = MESSAGE_TYPES.get(global_num)
    n_fields = raw[4]
    field_defs, layout, offset = [], [], 1
    for i in range(n_fields):
        def_num, size, base_num = raw[5 + 3 * i: 8 + 3 * i]
        known = mesg_type.fields.get(def_num) if mesg_type else None
        base = BASE_TYPES.get(base_num, BASE_TYPE_BYTE)
        if size % base.size != 0:  # fitfile.py reads it as bytes without meaning
            known, base = None, BASE_TYPE_BYTE
        field_defs.append(FieldDefinition(field=known, def_num=def_num, base_type=base,
                                          size=size))
        layout.append((offset, size, base, known, def_num))
        offset += size
    dev_defs = []
    if developer:
        at = 5 + 3 * n_fields
        for i in range(raw[at]):
            def_num, size, index = raw[at + 1 + 3 * i: at + 4 + 3 * i]
            # Cairn reads no developer field; fitparse reads `size` bytes whatever the type.
            dev_defs.append(DevFieldDefinition(field=DevField(
                dev_data_index=index, def_num=def_num, type=BASE_TYPE_BYTE,
                name=f"unknown_dev_{index}_{def_num}", units=None, native_field_num=None),
                dev_data_index=index, def_num=def_num, size=size))
            offset += size
    header = MessageHeader(is_definition=True, is_developer_data=developer,
                           local_mesg_num=0, time_offset=None)
    message = DefinitionMessage(header=header, endian=endian, mesg_type=mesg_type,
                                mesg_num=global_num, field_defs=field_defs,
                                dev_field_defs=dev_defs)
    kind = "record" if global_num == RECORD else READ_BY_FITPARSE.get(global_num, "other")
    definition = Definition(global_num=global_num, size=offset, message=message, kind=kind)
    _check(definition, layout, dev_defs, endian)
    return definition


def _check(definition: Definition, layout: list, dev_defs: list, endian: str) -> None:
    """Fill the timestamp fields and record plan, or say why the fast path must stand aside."""
    reasons = []
    if any(d.size == 0 for d in dev_defs) or any(size == 0 for _, size, *_ in layout):
        reasons.append("a zero-size field")  # fitparse refuses the file on reading it
    if any(d.def_num == TIMESTAMP for d in dev_defs):
        reasons.append("a developer field numbered like a timestamp")
    if dev_defs and definition.kind in ("file_id", "sport", "field_description",
                                        "developer_data_id"):
        reasons.append("developer fields in a message read by name")
    for offset, size, base, known, def_num in layout:
        if def_num == TIMESTAMP:
            if base.name in INVALID and size == base.size:
                definition.ts_fields.append((offset, endian + base.fmt, INVALID[base.name]))
            else:
                reasons.append("a timestamp that is not one integer")
        if known is not None:
            reasons.extend(_component_risks(known, base, size))
            definition.accumulating += [c.def_num for c in known.components or ()
                                        if c.accumulate]
    if definition.kind == "record":
        reasons.extend(_plan(definition, layout, endian))
    definition.unsupported = "; ".join(reasons) or None


def _component_risks(known, base, size) -> list[str]:
    """Component layouts on which fitparse raises (and the reference gives up on the file)."""
    variants = [known, *(known.subfields or ())]
    components = [(variant, c) for variant in variants for c in variant.components or ()]
    if not components:
        return []
    if base.name != "byte" and size != base.size:
        return ["an array field with components"]  # an invalid element breaks unpacking
    if any(c.accumulate and (base.name in FLOATS or base.name == "string")
           for _, c in components):
        return ["an accumulated component of a non-integer field"]
    if any(c.accumulate for variant, c in components if variant is not known):
        return ["an accumulated component of a subfield"]
    return []


def _plan(definition: Definition, layout: list, endian: str) -> list[str]:
    """Record fields -> Sources in fitparse's order (components before their field)."""
    mesg_type = definition.message.mesg_type
    names, formats, offsets = [], [], []
    for offset, size, base, known, _ in layout:
        if known is None:
            continue  # fitparse names it unknown_<n>: nothing the reference reads
        column = f"f{offset}"
        targets = [mesg_type.fields[c.def_num] for c in known.components or ()]
        related = {known.name, *(s.name for s in known.subfields or ()),
                   *(t.name for t in targets),
                   *(s.name for t in targets for s in t.subfields or ())}
        if not related & WANTED:
            continue
        if known.subfields or any(t.subfields for t in targets):
            return ["a record field with subfields"]
        if size != base.size or not (base.name in INVALID or base.name in FLOATS):
            return [f"record field {known.name} stored as {size} bytes of {base.name}"]
        invalid = INVALID.get(base.name)
        for component, target in zip(known.components or (), targets, strict=True):
            if target.name not in WANTED:
                continue
            if component.accumulate or invalid is None or target.type.values:
                return [f"record component {target.name} of {known.name}"]
            definition.sources.append(Source(
                name=target.name, column=column, invalid=invalid, scale=component.scale,
                offset=component.offset, bits=component.bits, shift=component.bit_offset))
        if known.name in WANTED:
            if known.type.values:
                return [f"record field {known.name} with named values"]
            definition.sources.append(Source(name=known.name, column=column, invalid=invalid,
                                             scale=known.scale, offset=known.offset))
        names.append(column)
        formats.append(endian + base.fmt)
        offsets.append(offset)
    definition.dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                 "itemsize": definition.size})
    return []
