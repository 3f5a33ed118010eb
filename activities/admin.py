"""Admin for uploads and API tokens (staff only). Activities are in reconciler/admin.py,
beside the re-sync actions that act on them."""

from django.contrib import admin

from activities.models import ApiToken, Upload


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
