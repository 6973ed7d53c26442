"""Django admin registrations of the fund app."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fund.ledger.services import create_fund
from fund.models import AccessLog, Fund


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


@admin.register(Fund)
class FundAdmin(admin.ModelAdmin[Fund]):
    """Funds: created with their chart of accounts; the ledger itself is never edited here."""

    list_display = ("name", "slug", "goal_cents", "currency", "restricted", "is_public")
    fields = (
        "name",
        "slug",
        "goal_cents",
        "currency",
        "restricted",
        "tax_status",
        "is_public",
        "public_summary",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Fund | None = None) -> list[str]:
        # A fund's slug is in public links and its currency in every posting: fixed once created.
        return ["slug", "currency"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Fund, form: Any, change: bool) -> None:
        if change:
            obj.save()
            return
        obj.pk = create_fund(
            name=obj.name,
            slug=obj.slug,
            goal_cents=obj.goal_cents,
            currency=obj.currency,
            restricted=obj.restricted,
            tax_status=obj.tax_status,
            is_public=obj.is_public,
            public_summary=obj.public_summary,
        ).pk

    def has_delete_permission(self, request: HttpRequest, obj: Fund | None = None) -> bool:
        return False
