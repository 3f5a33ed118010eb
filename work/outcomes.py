"""What one run of one row's work comes to: the kind's `run(lease)` returns one of these
and work.leases.release writes it (the only writer of lease fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Done:
    """The row is at the state wanted: it needs no more work (unless it was asked for
    again meanwhile: a new generation), and its count starts again. `fields` are the
    kind's own columns to write with it."""

    fields: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    #: Due again at once all the same: the kind has a next step for another round (an
    #: upload session deletes its bytes once its result is recorded).
    again: bool = False


@dataclass(frozen=True)
class Retry:
    """A transient failure: the attempt the claim counted stands; due again after the
    kind's backoff, dead once it has used the kind's maximum attempts."""

    code: str
    message: str
    fields: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Wait:
    """Not a failure: something outside is not ready (the store is away, a breaker is
    open, the bytes have not arrived). The attempt is given back; due at `until`, or at
    once if the row was nudged meanwhile. `label` is what the attempt log calls it
    ("yielded" for work handed back out of time)."""

    until: datetime
    reason: str = ""
    fields: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    label: str = "waiting"


@dataclass(frozen=True)
class Failed:
    """A permanent failure: a reason code and a sentence a person can read. It needs no
    more work until someone asks again."""

    code: str
    message: str
    fields: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    again: bool = False


@dataclass(frozen=True)
class Dead:
    """Given up on at once (the kind knows retrying cannot help): the kind's dead fields,
    a code and a sentence; replayed by an operator."""

    code: str
    message: str
    fields: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


Outcome = Done | Retry | Wait | Failed | Dead
