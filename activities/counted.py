"""The one SQL definition of an activity that counts (the twin of
Activity.objects.counted()): not deleted and not merged into another. Statements that read
what lists, records, totals, gear, training and segments count put it in their WHERE,
with the table's alias."""

from __future__ import annotations


def where(alias: str = "") -> str:
    """`deleted_at IS NULL AND merged_into_id IS NULL` on the table named `alias`."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}deleted_at IS NULL AND {prefix}merged_into_id IS NULL"
