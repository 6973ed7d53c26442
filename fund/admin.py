"""Django admin: funds (created through the service, amounts in the fund's currency), the access log
and security events read-only, staff accounts listed with their roles, API tokens read-only with
a revoke action, and second factors that can only be removed (never shown or edited)."""

from typing import Any

import allauth.mfa.admin  # noqa: F401  (registers Authenticator, which is replaced below)
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from fund import money
from fund.errors import FundError
from fund.ledger.models import Fund
from fund.ledger.services import create_fund
from fund.security.mfa import remove_second_factor
from fund.security.models import AccessLog, ApiToken, SecurityEvent
from fund.security.roles import roles_of
from fund.security.tokens import revoke_api_token


def _admin(request: HttpRequest) -> User:
    """Return the signed-in admin; Django admin turns anyone else away before this."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class GoalMixin(forms.ModelForm[Fund]):
    """The goal typed as money in the fund's currency (e.g. 150,000), stored in minor units."""

    goal = forms.CharField(max_length=24, help_text="In the fund's currency, e.g. 150,000.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["goal"] = money.format_amount(
                self.instance.goal_cents, self.instance.currency
            ).removeprefix(money.currency(self.instance.currency).symbol)

    def clean_goal(self) -> int:
        # A fund's currency is fixed once created: whatever a change form posts, its own counts.
        code = self.instance.currency if self.instance.pk else self.cleaned_data.get("currency")
        if not code:
            raise forms.ValidationError("Choose a currency above: the goal is read in it.")
        try:
            return money.parse_amount(self.cleaned_data["goal"], code)
        except FundError as error:
            raise forms.ValidationError(str(error)) from None


class FundAddForm(GoalMixin):
    """A new fund; `FundAdmin.save_form` hands it to `create_fund` with its chart of accounts."""

    currency = forms.ChoiceField(
        choices=[(code, code) for code in sorted(money.CURRENCIES)],
        initial=money.DEFAULT_CURRENCY,
    )

    class Meta:
        model = Fund
        fields = (
            "name",
            "slug",
            "currency",
            "restricted",
            "tax_status",
            "is_public",
            "public_summary",
            "show_supporters",
        )


class FundChangeForm(GoalMixin):
    """A fund's settings; its slug and currency are fixed once created."""

    class Meta:
        model = Fund
        fields = (
            "name",
            "restricted",
            "tax_status",
            "is_public",
            "public_summary",
            "show_supporters",
        )

    def save(self, commit: bool = True) -> Fund:
        self.instance.goal_cents = self.cleaned_data["goal"]
        return super().save(commit=commit)


@admin.register(Fund)
class FundAdmin(admin.ModelAdmin[Fund]):
    """Funds: created with their chart of accounts; the ledger itself is never edited here."""

    list_display = ("name", "slug", "goal", "currency", "restricted", "is_public")

    def get_readonly_fields(self, request: HttpRequest, obj: Fund | None = None) -> list[str]:
        # A fund's slug is in public links and its currency in every posting: fixed once created.
        return ["slug", "currency"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Fund | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = FundChangeForm if obj is not None else FundAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="Goal")
    def goal(self, obj: Fund) -> str:
        return money.format_amount(obj.goal_cents, obj.currency, whole=True)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Fund:
        if change:
            changed: Fund = super().save_form(request, form, change)
            return changed
        data = form.cleaned_data
        return create_fund(
            actor=_admin(request),
            name=data["name"],
            slug=data["slug"],
            goal_cents=data["goal"],
            currency=data["currency"],
            restricted=data["restricted"],
            tax_status=data["tax_status"],
            is_public=data["is_public"],
            public_summary=data["public_summary"],
            show_supporters=data["show_supporters"],
        )

    def save_model(self, request: HttpRequest, obj: Fund, form: Any, change: bool) -> None:
        # A new fund was saved by create_fund in save_form, with its ledger head and accounts.
        if change:
            obj.save()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request: HttpRequest, obj: Fund | None = None) -> bool:
        return False


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


class StaffUserAdmin(UserAdmin[User]):
    """Staff accounts, listed with the roles they hold."""

    list_display = ("username", "email", "roles", "is_active", "last_login")
    list_filter = ("groups", "is_active")
    # Recorded, not typed: a last login typed as 9999-12-31 would be stored past year 9999 in UTC,
    # and every later read of the account would fail.
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(roles_of(obj))) or "none"


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Listed and viewed only: nobody adds, edits or deletes a row here, admins included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Sign-in attacks and removed second factors, as admins were alerted to them."""

    list_display = ("at", "kind", "account", "actor", "detail")
    list_filter = ("kind",)
    date_hierarchy = "at"
    ordering = ("-at", "-pk")
    list_select_related = ("account", "actor")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens: seen by prefix, never by value or digest; revoked with the action."""

    list_display = ("prefix", "name", "user", "status", "created_at", "expires_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    fields = (*list_display, "revoked_at", "revoked_reason")
    readonly_fields = fields
    ordering = ("-created_at", "-pk")
    list_select_related = ("user",)
    actions = ("revoke",)

    @admin.display(description="Status")
    def status(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return f"revoked ({obj.revoked_reason})" if obj.revoked_reason else "revoked"
        return "expired" if obj.expires_at <= timezone.now() else "live"

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            revoke_api_token(actor=_admin(request), token=token)
        self.message_user(request, f"Revoked {len(live)} token(s).", messages.SUCCESS)


admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class SecondFactorAdmin(admin.ModelAdmin[Authenticator]):
    """Second factors: who has which. Their secrets are never shown or edited; an admin may only
    remove one (a lost phone), which is recorded, alerts the admins and e-mails the person."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__username",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Authenticator) -> None:
        remove_second_factor(actor=_admin(request), authenticator=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        for authenticator in queryset.select_related("user"):
            remove_second_factor(actor=_admin(request), authenticator=authenticator)
