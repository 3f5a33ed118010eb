from django.contrib import admin

from accounts.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("id", "note", "created_by", "created_at", "expires_at", "used_by")
    readonly_fields = ("token_sha256", "created_by", "created_at", "used_at", "used_by")
