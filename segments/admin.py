"""Admin for segments and activities' matches: their reconcile state, their attempts (the
timeline, from the one attempt log) and the re-sync actions, which call segments.resync
as `resync --deriver segments` does."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from segments import resync
from segments.kind import MATCH, SEGMENT
from segments.models import ActivityMatch, Segment
from work import attempts, clock

RECONCILE_FIELDS = ("status", "error_code", "error_message", "needs_work", "generation",
                    "priority", "due_at", "pending_since", "lease_owner", "lease_token",
                    "lease_expires_at", "attempts")


def _timeline(kind: str, row_id: int) -> str:
    rows = attempts.of(kind, row_id).order_by("-started_at", "-id")[:50]
    if not rows:
        return "No attempts yet."
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                            "<td>{}</td><td>{}</td></tr>", (
        (a.started_at, a.worker, a.outcome or "running",
         (a.detail or {}).get("candidates", ""), (a.detail or {}).get("efforts", ""),
         (a.detail or {}).get("duration_ms", ""), a.error_message) for a in rows))
    return format_html("<table><thead><tr><th>Started</th><th>Worker</th><th>Outcome</th>"
                       "<th>Candidates</th><th>Efforts</th><th>ms</th><th>Error</th></tr>"
                       "</thead><tbody>{}</tbody></table>", body)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "status", "distance_m", "needs_work", "attempts",
                    "backfill_after", "backfilled_at")
    list_filter = ("status", "needs_work")
    search_fields = ("name", "owner__username")
    readonly_fields = ("owner", "distance_m", "ascent_m", "start_cell", "created_at",
                       "backfill_after", "backfilled_at", *RECONCILE_FIELDS, "timeline")
    exclude = ("points", "polyline")
    actions = ["backfill"]

    @admin.display(description="Attempts (newest first)")
    def timeline(self, segment: Segment) -> str:
        return _timeline(SEGMENT.name, segment.id)

    @admin.action(description="Match the selected segments against every activity again")
    def backfill(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        count = resync.backfill_again(queryset, now=clock.now())
        self.message_user(request, f"{count} segment(s) owed a backfill again.",
                          messages.SUCCESS)


@admin.register(ActivityMatch)
class ActivityMatchAdmin(admin.ModelAdmin):
    list_display = ("activity", "owner", "status", "version", "needs_work", "priority",
                    "attempts", "candidates", "efforts", "matched_at")
    list_filter = ("status", "needs_work", "priority", "version")
    readonly_fields = ("activity", "owner", "version", "matched_at", "candidates", "efforts",
                       *RECONCILE_FIELDS, "timeline")
    actions = ["match_again"]

    @admin.display(description="Attempts (newest first)")
    def timeline(self, row: ActivityMatch) -> str:
        return _timeline(MATCH.name, row.id)

    @admin.action(description="Match the selected activities again (re-sync; revives dead)")
    def match_again(self, request: HttpRequest, queryset: QuerySet[ActivityMatch]) -> None:
        count = resync.resync(queryset.values_list("activity_id", "owner_id"), now=clock.now())
        self.message_user(request, f"{count} activit(y/ies) owed a match again.",
                          messages.SUCCESS)
