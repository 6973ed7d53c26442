"""The donation page's form: an amount (a preset or typed), once or monthly, and who gives."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from donations import demo_stripe
from donations import stripe as gateway
from donations.models import Gift
from donations.services.online import GiftRequest
from fund import money
from fund.errors import InvalidAmount
from fund.ledger.models import Fund

# Preset amounts, in whole units of the fund's currency.
PRESETS = (25, 50, 100, 250, 500)
OTHER = "other"


def whole_units(units: int, currency: str) -> int:
    """Return whole units of a currency in its minor units ($25 → 2500)."""
    return int(units * 10 ** money.currency(currency).exponent)


class GiveForm(forms.Form):
    """What a donor gives and who they are; `gift_request` hands it to start_online_gift."""

    amount = forms.ChoiceField(
        label=_("Amount"),
        required=False,
        widget=forms.RadioSelect(attrs={"class": "amount-choice"}),
    )
    other_amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                "aria-describedby": "id_other_amount_helptext",
            }
        ),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[
            (Gift.Frequency.ONCE, _("One time")),
            (Gift.Frequency.MONTHLY, _("Every month")),
        ],
        initial=Gift.Frequency.ONCE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one time or every month.")},
    )
    cover_fee = forms.BooleanField(
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_cover_fee_helptext"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("Your receipt goes here. We never share it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address, for your receipt.")},
    )
    name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=200,
        help_text=_("Optional. Printed on your receipt, never shown in public."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    address = forms.CharField(
        label=_("Mailing address"),
        required=False,
        max_length=500,
        help_text=_("Optional, for a receipt by mail."),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    employer = forms.CharField(
        label=_("Employer"),
        required=False,
        max_length=200,
        help_text=_("Optional. Many employers match their workers' gifts."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    anonymous = forms.BooleanField(
        label=_("Give anonymously"),
        required=False,
        help_text=_("Your gift is counted, but your name is never shown with it anywhere."),
    )
    tribute = forms.ChoiceField(
        label=_("Dedicate this gift"),
        required=False,
        choices=[
            (Gift.Tribute.NONE, _("No")),
            (Gift.Tribute.HONOUR, _("In honour of someone")),
            (Gift.Tribute.MEMORY, _("In memory of someone")),
        ],
        initial=Gift.Tribute.NONE,
        widget=forms.RadioSelect,
    )
    tribute_name = forms.CharField(label=_("Their name"), required=False, max_length=200)
    organisation = forms.CharField(
        label=_("Organisation's name"),
        required=False,
        max_length=200,
        help_text=_("Only if you give for an organisation, e.g. a union local."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    list_as_supporter = forms.BooleanField(
        label=_("List us as a supporter on this fund's page"),
        required=False,
        help_text=_("Only the organisation's name is shown, never a person's."),
    )

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.presets = [whole_units(units, fund.currency) for units in PRESETS]
        choices = [
            (str(cents), money.format_amount(cents, fund.currency, whole=True))
            for cents in self.presets
        ]
        amount = cast(forms.ChoiceField, self.fields["amount"])
        amount.choices = [*choices, (OTHER, _("Other amount"))]

    def fee_examples(self) -> list[tuple[str, str]]:
        """Return (amount, what covering the fee adds) for each preset, shown without JavaScript."""
        currency = self.fund.currency
        return [
            (
                money.format_amount(cents, currency, whole=True),
                money.format_amount(gateway.cover_for(cents), currency),
            )
            for cents in self.presets
        ]

    def clean_other_amount(self) -> int | None:
        text = self.cleaned_data["other_amount"].strip()
        if not text:
            return None
        currency = self.fund.currency
        low = whole_units(settings.ONLINE_GIFT_MIN, currency)
        high = whole_units(settings.ONLINE_GIFT_MAX, currency)
        bounds = {
            "low": money.format_amount(low, currency),
            "high": money.format_amount(high, currency),
        }
        try:
            cents = money.parse_amount(text, currency)
        except InvalidAmount as error:
            if error.code == "too_large":
                raise ValidationError(
                    _("One online gift can be at most %(high)s.") % bounds, code="too_large"
                ) from None
            if error.code == "fraction":
                raise ValidationError(
                    _("Enter the amount in %(currency)s, like %(example)s.")
                    % {"currency": currency, "example": bounds["low"]},
                    code="fraction",
                ) from None
            raise ValidationError(
                _("Enter an amount in figures, like %(example)s.") % {"example": bounds["low"]},
                code=error.code,
            ) from None
        if cents < low:
            raise ValidationError(
                _("One online gift must be at least %(low)s.") % bounds, code="too_small"
            )
        if cents > high:
            raise ValidationError(
                _("One online gift can be at most %(high)s.") % bounds, code="too_large"
            )
        return cents

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        typed = data.get("other_amount")
        chosen = data.get("amount") or ""
        if typed is not None:
            data["amount_cents"] = typed  # a typed amount wins over a picked one
        elif chosen.isdigit() and int(chosen) in self.presets:
            data["amount_cents"] = int(chosen)
        elif "other_amount" not in self.errors and "amount" not in self.errors:
            self.add_error("amount", _("Choose an amount, or type one under “Other amount”."))
        if data.get("tribute") and not data.get("tribute_name", "").strip():
            self.add_error("tribute_name", _("Enter the name of the person this gift is for."))
        organisation = data.get("organisation", "").strip()
        if data.get("list_as_supporter"):
            if not organisation:
                self.add_error(
                    "organisation", _("Enter the organisation's name to be listed as a supporter.")
                )
            elif data.get("anonymous"):
                self.add_error(
                    "list_as_supporter",
                    _("An anonymous gift is not listed: choose one or the other."),
                )
        return data

    def amount_cents(self) -> int:
        """Return the gift's amount chosen or typed, before any fee cover (form must be valid)."""
        cents: int = self.cleaned_data["amount_cents"]
        return cents

    def gift_request(self, *, language: str) -> GiftRequest:
        """Return what start_online_gift needs, the fee cover added to the amount if asked."""
        data = self.cleaned_data
        amount = self.amount_cents()
        cover = gateway.cover_for(amount) if data["cover_fee"] else 0
        return GiftRequest(
            fund=self.fund,
            amount_cents=amount + cover,
            cover_fee_cents=cover,
            monthly=data["frequency"] == Gift.Frequency.MONTHLY,
            email=data["email"],
            name=data["name"].strip(),
            address=data["address"].strip(),
            employer=data["employer"].strip(),
            anonymous=data["anonymous"],
            tribute=data["tribute"] or "",
            tribute_name=data["tribute_name"].strip() if data["tribute"] else "",
            organisation=data["organisation"].strip(),
            list_as_supporter=data["list_as_supporter"],
            language=language,
        )


class DemoCardForm(forms.Form):
    """DEMO MODE ONLY: the card number typed on the demo checkout page (never stored or logged)."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter a test card number.")},
    )

    def clean_card_number(self) -> str:
        digits = "".join(self.cleaned_data["card_number"].replace("-", " ").split())
        if digits == demo_stripe.CARD_DECLINED:
            raise ValidationError(_("Your card was declined."), code="card_declined")
        if digits != demo_stripe.CARD_SUCCEEDS:
            raise ValidationError(
                _("This is a demo: use the test card 4242 4242 4242 4242."), code="not_a_test_card"
            )
        return digits
