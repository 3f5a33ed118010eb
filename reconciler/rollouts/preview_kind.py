"""A rollout's preview samples as a kind of reconciled work (work.kinds): computing one
sample under the new code. Its claim statements, complete here, and its spec; the work is
reconciler.rollouts.previews.compute. The sweep leases samples only in a round that left the
activities idle (`when_idle`): a preview never slows real work down."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection

from reconciler.models import PreviewSample
from reconciler.operations import workers
from reconciler.rollouts import previews
from work import kinds

# Every statement takes only samples of rollouts in preview whose version is the one this
# code produces (%(versions)s, as JSON: {deriver: version}); a process on other code
# leaves them to the code being previewed. The rollout is read in a subquery, not joined,
# so the lock falls on samples alone.

#: Lease up to %(limit)s due samples nobody holds, in id order: preview_sample_pending.
CLAIM_DUE = """
UPDATE reconciler_previewsample
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM reconciler_previewsample
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
          AND rollout_id IN (
              SELECT r.id FROM reconciler_rollout AS r
               WHERE r.state = 'preview'
                 AND r.version = CAST(%(versions)s ->> r.deriver AS INTEGER))
        ORDER BY rollout_id, id
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its computer died holding it), alone.
CLAIM_ORPHAN = """
UPDATE reconciler_previewsample
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM reconciler_previewsample
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
          AND rollout_id IN (
              SELECT r.id FROM reconciler_rollout AS r
               WHERE r.state = 'preview'
                 AND r.version = CAST(%(versions)s ->> r.deriver AS INTEGER))
        ORDER BY rollout_id, id
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the sample %(row_id)s if it is due (a command).
CLAIM_ONE = """
UPDATE reconciler_previewsample
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
   AND rollout_id IN (
       SELECT r.id FROM reconciler_rollout AS r
        WHERE r.state = 'preview'
          AND r.version = CAST(%(versions)s ->> r.deriver AS INTEGER))
RETURNING id, generation, attempts
"""


def _params() -> dict:
    """This code's versions as one parameter: jsonb on PostgreSQL (its ->> needs it), JSON
    text on SQLite."""
    versions = workers.code_versions()
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return {"versions": Jsonb(versions)}
    return {"versions": json.dumps(versions)}


def _error(code: str, message: str) -> dict:
    return {}  # a sample's findings are its shadow outputs; its attempts keep the rest


KIND = kinds.register(kinds.Kind(
    name="preview",
    label="preview samples",
    model=PreviewSample,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="computing this preview sample",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    run=previews.compute,
    batch=lambda: settings.CAIRN_PREVIEW_PER_SWEEP,
    params=_params,
    versions=workers.code_versions,
    when_idle=True,
    runbook="backfill-after-a-version-bump.md",
))
