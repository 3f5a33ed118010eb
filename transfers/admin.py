"""Upload sessions in the admin: what is still coming, what failed and why."""

from django.contrib import admin

from transfers.models import UploadSession


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "via", "status", "size_bytes", "error_code", "expires_at",
                    "created_at")
    list_filter = ("status", "via", "error_code")
    readonly_fields = [field.name for field in UploadSession._meta.fields]
