"""Every kind of derived data, in dependency order."""

from core.derivers.base import Codec, DeriveError, Deriver, digest
from core.derivers.best_efforts import BEST_EFFORTS
from core.derivers.charts import CHARTS
from core.derivers.playback import PLAYBACK
from core.derivers.preview import PREVIEW
from core.derivers.route import ROUTE
from core.derivers.splits import SPLITS
from core.derivers.summary import SUMMARY
from core.derivers.track import TRACK

ALL: tuple[Deriver, ...] = (TRACK, SUMMARY, ROUTE, PLAYBACK, PREVIEW, CHARTS, SPLITS,
                              BEST_EFFORTS)
BY_NAME: dict[str, Deriver] = {d.name: d for d in ALL}
VERSIONS: dict[str, int] = {d.name: d.version for d in ALL}

__all__ = ["ALL", "BY_NAME", "VERSIONS", "Codec", "DeriveError", "Deriver", "digest"]
