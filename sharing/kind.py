"""Public copies and public heatmaps as kinds of reconciled work (work.kinds): claimed with
the per-user books' statements (work.userbooks) over sharing_publiccopy and
sharing_publicheat, built by sharing.build.run and sharing.heat.run."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, QuerySet

from activities.models import Activity, Visibility
from sharing import build, heat
from sharing.models import PublicCopy, PublicHeat
from work import userbooks

#: Due copies by the partial index public_pending (fresh first: a privacy change's), orphans
#: by public_leased, one copy by id; copies newer than this code are left to newer workers.
KIND = userbooks.register(
    name="public", key="public", label="public copies", model=PublicCopy,
    table="sharing_publiccopy", version=lambda: build.VERSION, run=build.run,
    doing="building this activity's public copy", runbook="sharing-and-privacy.md")

#: One heatmap per owner, claimed the same way (public_heat_pending, public_heat_leased);
#: after the copies in a round (reconciler.sweep.ORDER), so that it draws those just cut.
HEAT = userbooks.register(
    name="public_heat", key="public_heat", label="public heatmaps", model=PublicHeat,
    table="sharing_publicheat", version=lambda: heat.VERSION, run=heat.run,
    doing="drawing this public heatmap", runbook="sharing-and-privacy.md")


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Lease due copies and build each (tests, the benchmark); returns how many."""
    return userbooks.sweep(KIND, lambda now: 0, now=now, owner=owner, limit=limit)


#: Public heatmaps behind this code, and owners with a public activity and no heatmap (made
#: public before heatmaps were drawn): looked for as the record books' are.
HEAT_SEEN = userbooks.Seen()
LOOK_EVERY_S = 60.0
USERS_PER_LOOK = 1000


def _has_public() -> QuerySet[Activity]:
    """A user's public, counted activities (the user is the outer query's row)."""
    return Activity.objects.counted().filter(owner=OuterRef("pk"), visibility=Visibility.PUBLIC)


def flag_heat(*, now: datetime) -> int:
    """Flag a bounded batch of public heatmaps behind this code (and create missing ones):
    the sweep's step before it claims them. Returns how many."""
    return userbooks.flag_outdated(PublicHeat, HEAT_SEEN, now=now,
                                   batch=settings.CAIRN_ROLLOUT_BATCH, version=heat.VERSION,
                                   has_inputs=_has_public, look_every_s=LOOK_EVERY_S,
                                   users_per_look=USERS_PER_LOOK)
