"""Django admin registrations of the fund app."""

from django.contrib import admin
from django.http import HttpRequest

from fund.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin[AccessLog]):
    """The access log, read-only: nobody adds, edits or deletes an entry, admins included."""

    list_display = ("at", "user", "action", "object_type", "object_ref", "detail")
    list_filter = ("action", "object_type")
    search_fields = ("object_ref", "user__username")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        return False
