"""Bulk exports in the admin: what is being built, what failed and why."""

from django.contrib import admin

from exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "contents", "format", "status", "done", "total",
                    "size_bytes", "error_code", "created_at", "expires_at")
    list_filter = ("status", "contents", "error_code")
    readonly_fields = [field.name for field in Export._meta.fields]
