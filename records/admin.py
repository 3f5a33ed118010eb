"""Admin for users' record books: their reconcile state, their attempts (the timeline,
from the one attempt log) and the re-sync action, which calls records.resync as
`resync --deriver records` does."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from records import resync, serialize
from records.kind import KIND
from records.models import Book
from work import attempts, clock

RECONCILE_FIELDS = ("status", "version", "error_code", "error_message", "needs_work", "whole",
                    "generation", "priority", "due_at", "pending_since", "lease_owner",
                    "lease_token", "lease_expires_at", "attempts", "built_at")


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "version", "needs_work", "priority", "attempts",
                    "lease_owner", "built_at", "error_code")
    list_filter = ("status", "needs_work", "priority", "version")
    search_fields = ("user__username",)
    readonly_fields = ("user", *RECONCILE_FIELDS, "timeline")
    exclude = ("data", "heat", "heatmap_png")
    actions = ["rebuild"]

    @admin.display(description="Attempts (newest first)")
    def timeline(self, book: Book) -> str:
        """The book's attempts from the one attempt log (work.Attempt, kind "book")."""
        rows = [serialize.attempt_dict(a) for a in
                attempts.of(KIND.name, book.id).order_by("-started_at", "-id")[:50]]
        if not rows:
            return "No attempts yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (r["started_at"], r["ended_at"] or "", r["worker"], r["outcome"] or "running",
             r["mode"] or "", r["activities_read"], r["duration_ms"], r["error"] or "")
            for r in rows))
        return format_html("<table><thead><tr><th>Started</th><th>Ended</th><th>Worker</th>"
                           "<th>Outcome</th><th>Mode</th><th>Activities read</th>"
                           "<th>ms</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
                           body)

    @admin.action(description="Rebuild the selected records whole (re-sync; revives dead)")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        count = resync.resync(queryset.values_list("user_id", flat=True), now=clock.now())
        self.message_user(request, f"Flagged {count} record book(s) for a whole rebuild.",
                          messages.SUCCESS)
