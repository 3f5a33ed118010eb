"""The threshold in force on a day, from a history of changes."""

from __future__ import annotations

from datetime import date

from core.training import thresholds
from core.training.thresholds import Threshold

HISTORY = [
    Threshold("ftp_w", 230.0, date(2025, 1, 1)),
    Threshold("lthr", 165.0, date(2025, 1, 1)),
    Threshold("ftp_w", 250.0, date(2025, 3, 1)),
    Threshold("ftp_w", 240.0, date(2025, 2, 1)),  # entered late: order is by date
]


def test_before_the_first_entry_there_is_none():
    assert thresholds.value_on(HISTORY, "ftp_w", date(2024, 12, 31)) is None


def test_an_entry_holds_from_its_date_until_the_next():
    assert thresholds.value_on(HISTORY, "ftp_w", date(2025, 1, 1)) == 230.0
    assert thresholds.value_on(HISTORY, "ftp_w", date(2025, 1, 31)) == 230.0
    assert thresholds.value_on(HISTORY, "ftp_w", date(2025, 2, 1)) == 240.0
    assert thresholds.value_on(HISTORY, "ftp_w", date(2025, 2, 28)) == 240.0
    assert thresholds.value_on(HISTORY, "ftp_w", date(2030, 1, 1)) == 250.0


def test_kinds_do_not_mix():
    assert thresholds.value_on(HISTORY, "lthr", date(2025, 6, 1)) == 165.0
    assert thresholds.value_on(HISTORY, "hr_max", date(2025, 6, 1)) is None


def test_of_two_entries_on_one_date_the_later_wins():
    history = [("ftp_w", 200.0, date(2025, 1, 1)), ("ftp_w", 210.0, date(2025, 1, 1))]
    assert thresholds.value_on(history, "ftp_w", date(2025, 1, 1)) == 210.0  # plain tuples


def test_values_on_leaves_out_kinds_without_a_value():
    assert thresholds.values_on(HISTORY, date(2025, 2, 14)) == {"ftp_w": 240.0, "lthr": 165.0}
    assert thresholds.values_on(iter(HISTORY), date(2024, 1, 1)) == {}  # any iterable
