"""An owner's activities a page at a time, newest start first (undated ones by upload
time): keyset pages on (COALESCE(start_time, created_at), id), served by the index
activity_owner_list. A page reads its own rows and no more, however deep it is, and an
activity added meanwhile never shifts the pages after the cursor."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from activities import counted, edits
from activities.models import Activity

#: One page: {filters} are the chosen terms of FILTERS (each starts with AND).
PAGE = """
SELECT id FROM {table}
 WHERE owner_id = %(owner)s AND {counted}{filters}
 ORDER BY COALESCE(start_time, created_at) DESC, id DESC
 LIMIT %(limit)s
"""

FILTERS = {
    # A row value, so that the index seeks to the cursor rather than filtering up to it.
    "cursor": " AND (COALESCE(start_time, created_at), id) < (%(cursor_at)s, %(cursor_id)s)",
    "after": " AND COALESCE(start_time, created_at) >= %(after)s",
    "before": " AND COALESCE(start_time, created_at) < %(before)s",
    # The owner's choice first (activities.models.Activity.shown_sport). Plain column
    # terms, so that the planner estimates them from the columns' statistics (a CASE
    # is guessed rare, and rare filters are sorted rather than walked in index order).
    "sport": " AND (user_sport = %(sport)s OR (user_sport = '' AND sport = %(sport)s))",
    # As Activity.state reads it: `processing` is a lease, the others the settled status.
    "processing": " AND lease_token IS NOT NULL",
    "status": " AND status = %(status)s AND lease_token IS NULL",
}

STATUSES = ("queued", "processing", "ready", "failed", "dead")


class BadQuery(ValueError):
    """A parameter the list cannot use; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class Query:
    limit: int = 30
    cursor: tuple[datetime, int] | None = None
    sport: str | None = None
    status: str | None = None
    after: datetime | None = None
    before: datetime | None = None


def parse(params) -> Query:
    """The list's query parameters (a QueryDict or a dict), or BadQuery."""
    try:
        limit = int(params.get("limit", 30))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 200:
        raise BadQuery("limit is a whole number from 1 to 200.")
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadQuery(f"status is one of {', '.join(STATUSES)}.")
    sport = params.get("sport") or None
    if sport is not None and len(sport) > 64:
        raise BadQuery("sport is at most 64 characters.")
    cursor = params.get("cursor") or None
    return Query(limit=limit, sport=sport, status=status,
                 cursor=decode_cursor(cursor) if cursor else None,
                 after=_time(params, "after"), before=_time(params, "before"))


def check_sport(owner_id: int, query: Query) -> None:
    """BadQuery for a sport that is neither a sport Cairn knows (FIT's names, as PATCH
    takes them) nor one of this owner's activities has (a GPX <type> of its own): a typo
    is an error, not an empty list."""
    sport = query.sport
    if sport is None or sport in edits.SPORTS:
        return
    owned = Activity.objects.filter(owner_id=owner_id, deleted_at__isnull=True)
    if owned.filter(user_sport=sport).exists() or owned.filter(sport=sport).exists():
        return
    raise BadQuery(f"sport {sport!r} is not a sport: use a FIT sport name (running, "
                   "cycling, walking…, listed in the OpenAPI document) or one your "
                   "activities have.")


def page(owner_id: int, query: Query) -> tuple[list[Activity], str | None]:
    """One page of the owner's counted activities (activities.counted), and the cursor of
    the next (None at the end)."""
    with connection.cursor() as cursor:
        cursor.execute(*statement(owner_id, query))
        ids = [row[0] for row in cursor.fetchall()]
    found = Activity.objects.in_bulk(ids[:query.limit])
    activities = [found[i] for i in ids[:query.limit] if i in found]
    more = len(ids) > query.limit and activities
    return activities, encode_cursor(activities[-1]) if more else None


def statement(owner_id: int, query: Query) -> tuple[str, dict]:
    """The SQL of one page (one row more than the limit: whether there is a next page)."""
    terms, params = [], {"owner": owner_id, "limit": query.limit + 1}
    adapt = connection.ops.adapt_datetimefield_value
    if query.cursor is not None:
        terms.append("cursor")
        params |= {"cursor_at": adapt(query.cursor[0]), "cursor_id": query.cursor[1]}
    for name in ("after", "before", "sport"):
        value = getattr(query, name)
        if value is not None:
            terms.append(name)
            params[name] = adapt(value) if isinstance(value, datetime) else value
    if query.status == "processing":
        terms.append("processing")
    elif query.status is not None:
        terms.append("status")
        params["status"] = query.status
    return PAGE.format(table=Activity._meta.db_table, counted=counted.where(),
                       filters="".join(FILTERS[t] for t in terms)), params


def sort_key(activity: Activity) -> datetime:
    return activity.start_time or activity.created_at


def encode_cursor(activity: Activity) -> str:
    raw = json.dumps([sort_key(activity).astimezone(UTC).isoformat(), activity.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, activity_id = json.loads(raw)
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None or not isinstance(activity_id, int) or not 0 < activity_id < 2**63:
            raise ValueError(cursor)
        return at, activity_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadQuery("cursor is not one this API gave: follow the `next` URL.") from None


def _time(params, name: str) -> datetime | None:
    value = params.get(name) or None
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"{name} is an ISO 8601 time, such as 2026-01-15T12:00:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
