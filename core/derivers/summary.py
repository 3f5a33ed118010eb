"""The `summary` deriver: totals for one activity (distance, times, climbing, speeds, heart rate)."""

from core.derivers.base import Deriver
from core.summarize import summarize

SUMMARY = Deriver(
    name="summary",
    version=1,
    needs=("track",),
    derive=summarize,
)
