"""The `summary` deriver: one activity's totals (distance, times, climbing, speeds, heart rate)."""

from core.derivers.base import Deriver
from core.summarize import summarize

SUMMARY = Deriver(
    name="summary",
    # 2: plausible values only; elapsed time the sum of the parts' spans, and `parts`;
    # no times or speeds without timestamps; top speed and heart rate are the charts' peaks
    # 3: `title`, the file's own name or "<time of day> <sport>" (core.titles)
    # 4: `timezone`, the IANA zone where it began: the activity's local time
    version=4,
    needs=("track",),
    derive=summarize,
)
