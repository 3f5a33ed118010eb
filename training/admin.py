"""Admin for users' training books: their reconcile state, their attempts (the timeline,
from the one attempt log, with what each build recomputed) and the re-sync action, which
calls training.resync as `resync --deriver training` does."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from training import resync
from training.kind import KIND
from training.models import Book
from work import attempts, clock

RECONCILE_FIELDS = ("status", "version", "error_code", "error_message", "needs_work", "whole",
                    "generation", "priority", "due_at", "pending_since", "lease_owner",
                    "lease_token", "lease_expires_at", "attempts", "built_at")


@admin.register(Book)
class TrainingBookAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "version", "needs_work", "priority", "attempts",
                    "lease_owner", "built_at", "error_code")
    list_filter = ("status", "needs_work", "priority", "version")
    search_fields = ("user__username",)
    readonly_fields = ("user", *RECONCILE_FIELDS, "timeline")
    exclude = ("curve", "gear", "basis")
    actions = ["rebuild"]

    @admin.display(description="Attempts (newest first)")
    def timeline(self, book: Book) -> str:
        """The book's attempts (work.Attempt, kind "training") and what each recomputed."""
        rows = attempts.of(KIND.name, book.id).order_by("-started_at", "-id")[:50]
        if not rows:
            return "No attempts yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (a.started_at, a.worker, a.outcome or "running", (a.detail or {}).get("mode", ""),
             (a.detail or {}).get("loads_computed", ""),
             (a.detail or {}).get("series_from") or "", (a.detail or {}).get("duration_ms", ""),
             a.error_message) for a in rows))
        return format_html("<table><thead><tr><th>Started</th><th>Worker</th><th>Outcome</th>"
                           "<th>Mode</th><th>Loads computed</th><th>Series from</th>"
                           "<th>ms</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
                           body)

    @admin.action(description="Rebuild the selected training books whole (re-sync; revives "
                              "dead)")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        count = resync.resync(queryset.values_list("user_id", flat=True), now=clock.now())
        self.message_user(request, f"Flagged {count} training book(s) for a whole rebuild.",
                          messages.SUCCESS)
