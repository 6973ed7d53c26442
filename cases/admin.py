"""Django admin: the facility list admins keep, and cases by reference only.

A case's person, notes and documents are seen on the case screens (/cases/), where every view of
the person is written to the access log; here a case is its reference, status and dates, and no
encrypted field is shown, searched or exported. Cases are changed only through the services
(opened, moved, assigned, purged), never here.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from cases.models import Case, Facility


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin[Facility]):
    """Detention facilities; a long list is loaded with `manage.py import_facilities FILE`."""

    list_display = ("name", "city", "state", "active")
    list_filter = ("active", "state")
    search_fields = ("name", "city")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A facility some case was held at stays in the list (cases point to it); retire it
        # by unticking "active" instead.
        return obj is None or not Case.objects.filter(Q(facility=obj) | Q(detained_at=obj)).exists()


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    """Cases by reference and status: who they are is on the case screens, logged."""

    list_display = ("ref", "status", "opened_at", "closed_on", "legal_hold", "purged_at")
    list_filter = ("status", "legal_hold")
    search_fields = ("ref",)
    fields = ("ref", "status", "facility", "opened_at", "closed_on", "legal_hold", "purged_at")
    readonly_fields = fields
    ordering = ("-opened_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
