"""Forms of the treasurer's gift screens: the register's filters, an offline gift, a deposit, a
pledge, a donor's record, finding a donor by e-mail.

A form that records something carries a hidden idempotency key made when the form is drawn, so
that submitting it twice (a double click, a reload) records once; see donations.services.offline.
"""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from donations.models import Donor, Gift, Pledge
from donations.services.offline import (
    LANGUAGES,
    OFFLINE_METHODS,
    RETURN_REASONS,
    REUSED_KEY,
    DonorDetails,
)
from fund import money
from fund.errors import IdempotencyConflict, InvalidAmount
from fund.ledger.forms import BookDateField, DateRangeForm, new_idempotency_key
from fund.ledger.models import Fund
from fund.ledger.queries import list_funds

LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LANGUAGE_CHOICES = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
BIGINT = 2**63 - 1


def parse_money(text: str, fund: Fund) -> int:
    """Return a typed amount in minor units of the fund's currency, or raise a form error."""
    try:
        return money.parse_amount(text, fund.currency)
    except InvalidAmount as error:
        raise ValidationError(str(error), code=error.code) from None


class RecordingForm(forms.Form):
    """A form that records something once: its service's refusals are shown on it, and a key
    already spent on other values is replaced, so that submitting again records deliberately."""

    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("idempotency_key", new_idempotency_key())
        super().__init__(*args, **kwargs)

    def refused(self, error: Exception) -> None:
        """Show why the service refused what the form asked."""
        if isinstance(error, IdempotencyConflict):
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data["idempotency_key"] = new_idempotency_key()
            self.data = data
            self.add_error(None, REUSED_KEY)
            return
        self.add_error(None, str(error))


class FundChoiceField(forms.ModelChoiceField[Fund]):
    """One of the funds, by slug."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=list_funds(), to_field_name="slug", **kwargs)

    def label_from_instance(self, obj: Fund) -> str:
        return obj.name


class PledgeChoiceField(forms.ModelChoiceField[Pledge]):
    """One of the pledges, named by number, organisation, amount and day due."""

    def label_from_instance(self, obj: Pledge) -> str:
        amount = money.format_amount(obj.amount_cents, obj.fund.currency)
        return f"Pledge #{obj.pk}: {obj.donor.organisation}, {amount} by {obj.due_on:%Y-%m-%d}"


class GiftFilterForm(DateRangeForm):
    """Narrow the gifts register by the day received, fund, method and status (GET)."""

    fund = FundChoiceField(required=False, empty_label="Any fund")
    method = forms.ChoiceField(required=False, choices=[("", "Any method"), *Gift.Method.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Gift.Status.choices])


class OfflineGiftForm(RecordingForm):
    """A check, cash, ACH or wire gift from a person or an organisation, or toward a pledge."""

    fund = FundChoiceField(empty_label=None)
    method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in OFFLINE_METHODS],
        help_text="Checks and cash wait in Undeposited funds until you record their deposit.",
    )
    amount = forms.CharField(
        max_length=24,
        help_text="In the fund's currency, e.g. 250.00.",
        error_messages={"required": "Enter the amount."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    received_on = BookDateField(
        label="Received on",
        error_messages={
            "required": "Enter the day received.",
            "invalid": "Enter a date as YYYY-MM-DD.",
        },
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        label="Check number or reference",
        help_text="Required for a check.",
    )
    pledge = PledgeChoiceField(
        queryset=Pledge.objects.select_related("fund", "donor").order_by("due_on", "pk"),
        required=False,
        empty_label="No pledge",
        label="Toward a pledge",
        help_text="A gift toward a pledge is the pledging organisation's: leave the donor blank.",
    )
    donor_kind = forms.ChoiceField(
        required=False,
        label="From",
        choices=[
            (Donor.Kind.PERSON.value, "A person"),
            (Donor.Kind.ORGANISATION.value, "An organisation"),
        ],
        widget=forms.RadioSelect,
    )
    organisation = forms.CharField(
        max_length=200, required=False, label="Organisation's name", help_text="E.g. Local 26."
    )
    email = forms.EmailField(
        required=False,
        label="E-mail address",
        help_text="A person's is required (the receipt goes there); an organisation's is optional.",
    )
    name = forms.CharField(max_length=200, required=False, label="Person's name")
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    employer = forms.CharField(max_length=200, required=False, help_text="For matching gifts.")
    anonymous = forms.BooleanField(required=False, label="Anonymous: never show who gave this gift")
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, label="Receipt language")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("received_on", timezone.localdate())
        initial.setdefault("donor_kind", Donor.Kind.PERSON.value)
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fund, pledge = data.get("fund"), data.get("pledge")
        if fund is not None and "amount" in data:
            try:
                data["amount_cents"] = parse_money(data["amount"], fund)
            except ValidationError as error:
                self.add_error("amount", error)
        if fund is not None and pledge is not None and pledge.fund_id != fund.pk:
            self.add_error("pledge", "This pledge is to another fund.")
        if data.get("method") == Gift.Method.CHECK and not data.get("reference", "").strip():
            self.add_error("reference", "Enter the check number.")
        kind = data.get("donor_kind")
        typed = self._donor_typed(data)
        if pledge is None or typed:
            if kind == Donor.Kind.PERSON and not data.get("email"):
                self.add_error("email", "A person's gift needs their e-mail address.")
            elif kind == Donor.Kind.ORGANISATION and not data.get("organisation", "").strip():
                self.add_error("organisation", "Enter the organisation's name.")
            elif not kind:
                self.add_error("donor_kind", "Choose a person or an organisation.")
        return data

    def _donor_typed(self, data: dict[str, Any]) -> bool:
        if data.get("donor_kind") == Donor.Kind.ORGANISATION:
            return bool(data.get("organisation", "").strip())
        return bool(data.get("email"))

    def donor_details(self) -> DonorDetails | None:
        """Return who gave as typed; None when the gift is toward a pledge with no donor typed."""
        data = self.cleaned_data
        if data.get("pledge") is not None and not self._donor_typed(data):
            return None
        if data["donor_kind"] == Donor.Kind.ORGANISATION:
            return DonorDetails(
                kind=Donor.Kind.ORGANISATION,
                organisation=data["organisation"],
                email=data["email"],
                address=data["address"],
            )
        return DonorDetails(
            kind=Donor.Kind.PERSON,
            email=data["email"],
            name=data["name"],
            address=data["address"],
            employer=data["employer"],
        )


class GiftIdsField(forms.Field):
    """The ids of the gifts ticked in a list of checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[int]:
        values: Sequence[Any] = (
            value if isinstance(value, list | tuple) else [value] if value else []
        )
        ids = []
        for item in values:
            text = str(item).strip()
            if not text.isascii() or not text.isdigit() or not 0 < int(text) <= BIGINT:
                raise ValidationError("Choose gifts from the list.", code="invalid")
            ids.append(int(text))
        return ids


class DepositForm(RecordingForm):
    """Checks and cash of one fund taken to the bank together."""

    gifts = GiftIdsField(error_messages={"required": "Choose the checks and cash to deposit."})
    deposited_on = BookDateField(
        label="Deposited on",
        error_messages={
            "required": "Enter the day deposited.",
            "invalid": "Enter a date as YYYY-MM-DD.",
        },
    )
    reference = forms.CharField(
        max_length=100, required=False, label="Deposit slip number", help_text="Optional."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("deposited_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class PledgeForm(RecordingForm):
    """An organisation's promise of an amount by a day."""

    fund = FundChoiceField(empty_label=None)
    organisation = forms.CharField(
        max_length=200,
        label="Organisation's name",
        help_text="E.g. Local 26.",
        error_messages={"required": "Enter the organisation's name."},
    )
    amount = forms.CharField(
        max_length=24,
        help_text="In the fund's currency, e.g. 10,000.",
        error_messages={"required": "Enter the amount pledged."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    due_on = BookDateField(
        label="Due by",
        error_messages={
            "required": "Enter the day it is due.",
            "invalid": "Enter a date as YYYY-MM-DD.",
        },
    )
    note = forms.CharField(max_length=200, required=False, help_text="Optional, e.g. 'by March'.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fund = data.get("fund")
        if fund is not None and "amount" in data:
            try:
                data["amount_cents"] = parse_money(data["amount"], fund)
            except ValidationError as error:
                self.add_error("amount", error)
        if not data.get("organisation", "x").strip():
            self.add_error("organisation", "Enter the organisation's name.")
        return data


class DonorForm(forms.Form):
    """A donor's record as a treasurer corrects it; the fields shown depend on the donor's kind."""

    organisation = forms.CharField(
        max_length=200,
        label="Organisation's name",
        error_messages={"required": "Enter the organisation's name."},
    )
    list_as_supporter = forms.BooleanField(
        required=False, label="List this organisation as a supporter on the fund's public page"
    )
    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(
        label="E-mail address",
        error_messages={"required": "A person's record needs their e-mail address."},
    )
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    employer = forms.CharField(max_length=200, required=False, help_text="For matching gifts.")
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, label="Receipt language")

    def __init__(self, *args: Any, donor: Donor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.donor = donor
        if donor.kind == Donor.Kind.PERSON:
            del self.fields["organisation"], self.fields["list_as_supporter"]
        else:
            del self.fields["name"], self.fields["employer"]
            self.fields["email"].required = False

    def refused(self, error: Exception) -> None:
        """Show why the service refused the change."""
        self.add_error(None, str(error))


class DonorFindForm(forms.Form):
    """Find a person donor by e-mail address (POST: an address never goes in a URL)."""

    email = forms.EmailField(label="E-mail address")


class CorrectionForm(forms.Form):
    """A correction that its service makes once, whatever is submitted again: a refusal is shown
    on the form."""

    def refused(self, error: Exception) -> None:
        self.add_error(None, str(error))


class ReturnGiftForm(CorrectionForm):
    """Taking back an offline gift that did not hold (a bounced check, one recorded by mistake)."""

    reason = forms.ChoiceField(
        label="Why",
        choices=[("", "Choose…")]
        + [(key, text.capitalize()) for key, text in RETURN_REASONS.items()],
        error_messages={"required": "Say why the gift is taken back."},
    )
    returned_on = BookDateField(
        label="On",
        error_messages={
            "required": "Enter the day the bank returned it, or the day it is taken back.",
            "invalid": "Enter a date as YYYY-MM-DD.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("returned_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class VoidDepositForm(CorrectionForm):
    """Undoing a deposit recorded by mistake."""

    voided_on = BookDateField(
        label="Voided on",
        error_messages={"required": "Enter the day.", "invalid": "Enter a date as YYYY-MM-DD."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("voided_on", timezone.localdate())
        super().__init__(*args, **kwargs)
