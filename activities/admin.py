"""Admin for uploads, activities and their derived data (staff only)."""

from django.contrib import admin

from activities.models import Activity, ApiToken, Derived, Upload

RECONCILE_FIELDS = ("status", "error_code", "error_message", "needs_work", "generation",
                    "priority", "due_at", "pending_since", "lease_owner", "lease_token",
                    "lease_expires_at", "attempts", "processed_at")


class DerivedInline(admin.TabularInline):
    model = Derived
    fields = ("deriver", "version", "status", "error_code", "error_message", "duration_ms",
              "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "format", "status", "needs_work", "attempts",
                    "created_at")
    list_filter = ("status", "needs_work", "format")
    search_fields = ("=id", "owner__username", "sha256", "name")
    readonly_fields = ("owner", "upload", "format", "sha256", "file_name", "size_bytes",
                       "created_at", *RECONCILE_FIELDS)
    inlines = [DerivedInline]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "original_name", "size_bytes", "created_at")
    search_fields = ("=id", "owner__username", "sha256")
    readonly_fields = ("owner", "sha256", "size_bytes", "original_name", "idempotency_key",
                       "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "last_used_at")
    readonly_fields = ("user", "key_hash", "prefix", "created_at", "last_used_at")
