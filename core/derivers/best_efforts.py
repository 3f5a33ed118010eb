"""The `best_efforts` deriver: the fastest stretches and best power within one activity
(core.efforts), which per-user records are built from without reading tracks."""

from core.derivers.base import Deriver
from core.efforts import best_efforts

BEST_EFFORTS = Deriver(
    name="best_efforts",
    version=1,
    needs=("track",),
    derive=best_efforts,
)
