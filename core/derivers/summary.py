"""The `summary` deriver: one activity's totals (distance, times, climbing, speeds, heart rate)."""

from core.derivers.base import Deriver
from core.summarize import summarize

SUMMARY = Deriver(
    name="summary",
    version=1,
    needs=("track",),
    derive=summarize,
)
