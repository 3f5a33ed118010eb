"""Deleting activities as a kind of reconciled work (work.kinds): its claim statements and
its spec. The work itself is reconciler.deletions.removal.run."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from activities.models import Activity
from reconciler.deletions import removal
from work import kinds

#: Lease up to %(limit)s due deletions nobody holds, the longest due first: the partial
#: index activity_deleting (deleted_at IS NOT NULL, by due_at).
CLAIM_DUE = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_activity
        WHERE deleted_at IS NOT NULL AND needs_work AND due_at <= %(now)s
          AND lease_token IS NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphaned deletion (its holder died mid-way), alone: activity_deleting.
CLAIM_ORPHAN = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_activity
        WHERE deleted_at IS NOT NULL AND needs_work AND due_at <= %(now)s
          AND lease_token IS NOT NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the deleted activity %(row_id)s if it is due.
CLAIM_ONE = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND deleted_at IS NOT NULL AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


KIND = kinds.register(kinds.Kind(
    name="deletion",
    label="activity deletions",
    model=Activity,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="removing this deleted activity",
    # What the owner asked for is done whatever it takes: never given up on.
    max_attempts=lambda: None,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    scope={"deleted_at__isnull": False},
    rows=lambda: Q(deleted_at__isnull=False),
    dead=lambda: Q(pk__in=[]),  # never given up on
    run=removal.run,
    batch=lambda: 20,
    runbook="deletions-not-finishing.md",
))
