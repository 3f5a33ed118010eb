"""Liveness and readiness probes."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from activities import storage

#: Looked up (never written) to see that the store of originals answers.
STORE_PROBE = "originals/readyz-probe"


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers, every migration is applied, and the store of originals answers
    (with the object store away, uploads would answer 503)."""
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return JsonResponse({"status": "unavailable", "reason": f"database: {error}"},
                            status=503)
    if unapplied:
        return JsonResponse({"status": "unavailable",
                             "reason": f"{len(unapplied)} migration(s) not applied"}, status=503)
    try:
        default_storage.exists(STORE_PROBE)
    except storage.Unavailable as error:
        return JsonResponse({"status": "unavailable", "reason": f"storage: {error}"},
                            status=503)
    return JsonResponse({"status": "ok"})
