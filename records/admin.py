"""Admin for users' record books: their reconcile state, the attempts log (the timeline)
and the re-sync action, which calls records.resync as `resync --deriver records` does."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from records import resync
from records.models import Book, BookAttempt
from work import clock

RECONCILE_FIELDS = ("status", "version", "error_code", "error_message", "needs_work", "whole",
                    "generation", "priority", "due_at", "pending_since", "lease_owner",
                    "lease_token", "lease_expires_at", "attempts", "built_at")


class BookAttemptInline(admin.TabularInline):
    model = BookAttempt
    fields = ("started_at", "ended_at", "worker", "outcome", "mode", "activities_read",
              "duration_ms", "error_code", "error_message")
    readonly_fields = fields
    ordering = ("-started_at",)
    extra = 0
    can_delete = False


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "version", "needs_work", "priority", "attempts",
                    "lease_owner", "built_at", "error_code")
    list_filter = ("status", "needs_work", "priority", "version")
    search_fields = ("user__username",)
    readonly_fields = ("user", *RECONCILE_FIELDS)
    exclude = ("data", "heat", "heatmap_png")
    inlines = [BookAttemptInline]
    actions = ["rebuild"]

    @admin.action(description="Rebuild the selected records whole (re-sync; revives dead)")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        count = resync.resync(queryset.values_list("user_id", flat=True), now=clock.now())
        self.message_user(request, f"Flagged {count} record book(s) for a whole rebuild.",
                          messages.SUCCESS)


@admin.register(BookAttempt)
class BookAttemptAdmin(admin.ModelAdmin):
    list_display = ("book", "started_at", "worker", "outcome", "mode", "activities_read",
                    "duration_ms")
    list_filter = ("outcome", "mode")
    readonly_fields = [f.name for f in BookAttempt._meta.fields]
