"""Forms of a case's money: requesting a disbursement, adding a payee, the treasurer's reject and
pay forms, recording a bond and the bond's later steps.

Amounts are typed in the fund's currency and parsed exactly (fund.money.parse_amount: no floats).
A form that records something carries a hidden idempotency key made when the form is drawn, so
that submitting it twice (a double click, a reload) records once.
"""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.forms.case import RecordingForm, RefusableForm
from cases.models import Case, Disbursement, Document, Payee
from fund import money
from fund.errors import InvalidAmount
from fund.ledger.forms import BookDateField
from fund.ledger.models import Fund
from fund.ledger.queries import list_funds


def parse_money(text: str, fund: Fund) -> int:
    """Return a typed amount in minor units of the fund's currency, or raise a form error."""
    try:
        return money.parse_amount(text, fund.currency)
    except InvalidAmount as error:
        raise ValidationError(str(error), code=error.code) from None


def amount_field(label: str = "Amount", *, required: bool = True) -> forms.CharField:
    """Return a field for an amount typed in the fund's currency ("1,500.00")."""
    return forms.CharField(
        max_length=24,
        required=required,
        label=label,
        help_text="In the fund's currency, e.g. 1500.00.",
        error_messages={"required": f"Enter the {label.lower()}."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class FundChoiceField(forms.ModelChoiceField[Fund]):
    """One of the funds, by slug."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=list_funds(), to_field_name="slug", **kwargs)

    def label_from_instance(self, obj: Fund) -> str:
        return obj.name


class PayeeChoiceField(forms.ModelChoiceField[Payee]):
    """One of the payees, by name and firm (payees are the fund's vendors, not the person)."""

    def label_from_instance(self, obj: Payee) -> str:
        name = obj.name or f"Payee #{obj.pk}"
        extra = obj.firm or obj.get_kind_display()
        return f"{name} ({extra})"


class DocumentChoiceField(forms.ModelChoiceField[Document]):
    """One of the case's documents, by number, kind and day: its file name may name the person."""

    def label_from_instance(self, obj: Document) -> str:
        return f"#{obj.pk} {obj.get_kind_display()}, {obj.uploaded_at:%Y-%m-%d}"


class DisbursementForm(RecordingForm):
    """Money to request for a case: from which fund, for what, to whom, how much."""

    fund = FundChoiceField(empty_label=None)
    category = forms.ChoiceField(choices=Disbursement.Category.choices)
    payee = PayeeChoiceField(
        queryset=Payee.objects.order_by("pk"),
        empty_label="Choose who is paid",
        error_messages={"required": "Choose who is to be paid."},
    )
    amount = amount_field()
    memo = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What it is for. Kept encrypted.",
    )
    document = DocumentChoiceField(
        label="Supporting document",
        queryset=Document.objects.none(),
        required=False,
        empty_label="None",
        help_text="An invoice or receipt uploaded on the case's documents page.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(DocumentChoiceField, self.fields["document"])
        field.queryset = case.documents.defer("filename").order_by("-uploaded_at", "-pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fund = data.get("fund")
        if fund is not None and data.get("amount"):
            try:
                data["amount_cents"] = parse_money(data["amount"], fund)
            except ValidationError as error:
                self.add_error("amount", error)
        return data


class PayeeForm(RefusableForm):
    """Someone the fund pays: an attorney, a family member, a court, ICE."""

    kind = forms.ChoiceField(choices=Payee.Kind.choices)
    name = forms.CharField(max_length=200, error_messages={"required": "A payee needs a name."})
    firm = forms.CharField(max_length=200, required=False)
    bar_number = forms.CharField(max_length=50, required=False, label="Bar number")
    contact = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    case = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)


class RejectForm(RefusableForm):
    """Why a disbursement is rejected."""

    reason = forms.CharField(
        max_length=450, error_messages={"required": "Say why the disbursement is rejected."}
    )


class VoidForm(RefusableForm):
    """Why a paid disbursement is voided (kept encrypted on it, never in the ledger)."""

    reason = forms.CharField(
        max_length=450,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the disbursement; the ledger's entry says only which one was voided.",
        error_messages={"required": "Say why the payment is voided."},
    )


class PayForm(RefusableForm):
    """How and when an approved disbursement was paid."""

    method = forms.ChoiceField(choices=Disbursement.Method.choices)
    reference = forms.CharField(
        max_length=100,
        label="Check number or reference",
        error_messages={"required": "Enter the check number, ACH trace or wire reference."},
    )
    paid_on = BookDateField(
        label="Paid on",
        error_messages={"required": "Enter the day paid.", "invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("paid_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class BondForm(RecordingForm):
    """An immigration bond the fund posted: fund, amount, obligor, ICE's receipt, day posted."""

    fund = FundChoiceField(empty_label=None)
    amount = amount_field()
    obligor_name = forms.CharField(
        max_length=500, label="Obligor's name", error_messages={"required": "Enter the obligor."}
    )
    obligor_relationship = forms.CharField(
        max_length=500, required=False, label="Obligor's relationship"
    )
    obligor_contact = forms.CharField(max_length=500, required=False, label="Obligor's contact")
    obligor_attested = forms.BooleanField(
        required=False, label="The obligor attests being a US citizen or permanent resident"
    )
    receipt_number = forms.CharField(max_length=500, required=False, label="ICE receipt number")
    posted_on = BookDateField(
        label="Posted on",
        error_messages={"required": "Enter the day posted.", "invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("posted_on", timezone.localdate())
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fund = data.get("fund")
        if fund is not None and data.get("amount"):
            try:
                data["amount_cents"] = parse_money(data["amount"], fund)
            except ValidationError as error:
                self.add_error("amount", error)
        return data


class BondStepForm(RefusableForm):
    """The day of a bond's next step (cancelled, breached, refunded, forfeited) and, for a
    refund, the principal and ICE's interest received."""

    on = BookDateField(
        label="On", error_messages={"required": "Enter the day.", "invalid": "Enter a date."}
    )
    principal = amount_field("Principal received", required=False)
    interest = amount_field("Interest received", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("on", timezone.localdate())
        super().__init__(*args, **kwargs)

    def amounts(self, fund: Fund) -> tuple[int, int] | None:
        """Return the refund's principal and interest in minor units, or None (form errors)."""
        cents: list[int] = []
        for name in ("principal", "interest"):
            text = (self.cleaned_data.get(name) or "").strip()
            if not text and name == "interest":
                cents.append(0)
                continue
            if not text:
                self.add_error(name, "Enter the principal received.")
                return None
            try:
                cents.append(parse_money(text, fund))
            except ValidationError as error:
                if error.code == "zero" and name == "interest":
                    cents.append(0)
                    continue
                self.add_error(name, error)
                return None
        return cents[0], cents[1]


class BondVoidForm(RefusableForm):
    """Why a bond was recorded by mistake (kept encrypted on it, never in the ledger)."""

    reason = forms.CharField(
        max_length=450,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the bond; the ledger's entry says only which bond was voided.",
        error_messages={"required": "Say why the bond is voided."},
    )
