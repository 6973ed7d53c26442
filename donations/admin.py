"""Django admin: donors, gifts and Stripe's events, read-only and without personal data.

Who gave and their addresses are seen on the treasurer screens (/staff/gifts/), where every view
is recorded in the access log; here a donor is "Donor #12" and no encrypted field, Stripe event
body or tribute name is shown, searched or exported. Nothing is added, changed or deleted here:
gifts and deposits move money, which only the services book.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from donations.models import Donor, Gift, StripeEvent
from donations.queries import ANONYMOUS, pseudonym
from fund import money


class ReadOnlyAdmin[M: Any](admin.ModelAdmin[M]):
    """A list to look at: no add, change or delete, for admins included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(Donor)
class DonorAdmin(ReadOnlyAdmin[Donor]):
    """Donors by number and kind; their names, e-mail and addresses are on the treasurer screens."""

    list_display = ("__str__", "kind", "language", "list_as_supporter", "created_at")
    list_filter = ("kind", "list_as_supporter")
    fields = ("kind", "language", "list_as_supporter", "created_at", "changed_fields", "changed_at")
    readonly_fields = fields
    ordering = ("-pk",)


@admin.register(Gift)
class GiftAdmin(ReadOnlyAdmin[Gift]):
    """Gifts with their amounts and states; who gave only as "Donor #12"."""

    list_display = ("__str__", "fund", "method", "status", "amount", "received_on", "who")
    list_filter = ("method", "status", "fund")
    list_select_related = ("fund",)
    date_hierarchy = "created_at"
    fields = (
        "fund",
        "who",
        "method",
        "status",
        "frequency",
        "amount",
        "anonymous",
        "received_on",
        "reference",
        "language",
        "deposit",
        "pledge",
        "recurring",
        "transaction",
        "receipt_sent_at",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("-pk",)

    @admin.display(description="Amount")
    def amount(self, obj: Gift) -> str:
        return money.format_amount(obj.amount_cents, obj.fund.currency)

    @admin.display(description="Donor")
    def who(self, obj: Gift) -> str:
        return ANONYMOUS if obj.anonymous else pseudonym(obj.donor_id)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin[StripeEvent]):
    """Stripe's webhook events by id and type; their bodies (donors' names, addresses) never."""

    list_display = ("event_id", "type", "object_id", "created", "received_at")
    list_filter = ("type",)
    search_fields = ("event_id", "object_id")
    date_hierarchy = "received_at"
    fields = ("event_id", "type", "object_id", "created", "received_at")
    readonly_fields = fields
    ordering = ("-received_at", "-pk")
