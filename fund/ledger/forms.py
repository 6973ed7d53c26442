"""Forms of the treasurer screens: filters, period changes, manual journal entries, reversals."""

import contextlib
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from fund import money
from fund.errors import FundError, IdempotencyConflict, InvalidAmount
from fund.ledger.dates import (
    FIRST_BOOK_DAY,
    LAST_BOOK_DAY,
    NOT_ENDED,
    OUTSIDE_THE_BOOKS,
    in_the_books,
    latest_closable_day,
)
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.queries import list_accounts

IDEMPOTENCY_CONFLICT = (
    "This form was already submitted with other values, so nothing more was posted. "
    "Check the transactions list, then submit again to post this entry as a new one."
)
DEFAULT_LEGS = 4
ADDED_LEGS = 4
MAX_LEGS = 20


def parse_leg_amount(text: str, currency: str) -> int | None:
    """Return a typed debit or credit in minor units (None if blank), by the rules of fund.money."""
    if not text.strip():
        return None
    try:
        return money.parse_amount(text, currency)
    except InvalidAmount as error:
        message = str(error)
        if error.code == "negative":
            message = f"{message.rstrip('.')}: put a credit in the Credit column."
        elif error.code == "zero":
            message = f"{message.rstrip('.')}, or leave it blank."
        raise ValidationError(message, code=error.code) from None


class ServiceForm(forms.Form):
    """A form whose submission calls a service; the service's refusals are shown on it."""

    def refused(self, error: FundError) -> None:
        """Show why the service refused what the form asked."""
        self.add_error(None, str(error))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class BookDateField(forms.DateField):
    """A day the books take (fund.ledger.dates); one outside the range is a form error."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", DateInput())
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not in_the_books(value):
            raise ValidationError(OUTSIDE_THE_BOOKS, code="outside_the_books")

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update(min=FIRST_BOOK_DAY.isoformat(), max=LAST_BOOK_DAY.isoformat())
        return attrs


class DateRangeForm(forms.Form):
    """Narrow an account's postings by date range (GET)."""

    start = BookDateField(required=False, label="From")
    end = BookDateField(required=False, label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("The start date is after the end date.")
        return data


class TransactionFilterForm(DateRangeForm):
    """Narrow the transactions list by date range and kind (GET)."""

    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Transaction.Kind.choices])


class TrialBalanceForm(forms.Form):
    """Pick the day a trial balance is drawn at (GET); blank means now."""

    on = BookDateField(
        required=False,
        label="As of",
        help_text="End of this day. Leave blank for current balances.",
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )


class CloseBooksForm(ServiceForm):
    """Close the books through a day that has ended (after a confirmation page)."""

    through = BookDateField(
        label="Close the books through",
        help_text="Nothing dated on or before this day can be posted afterwards.",
        error_messages={"invalid": "Enter a date as YYYY-MM-DD.", "required": "Choose a day."},
    )
    reason = forms.CharField(required=False, max_length=500, label="Note (optional)")

    def clean_through(self) -> date:
        through: date = self.cleaned_data["through"]
        if through > latest_closable_day():
            raise ValidationError(NOT_ENDED)
        return through


class ReopenBooksForm(ServiceForm):
    """Move the lock date back to an earlier day: an admin, with a reason."""

    through = BookDateField(
        label="Keep the books closed only through",
        help_text="Days after this one open again for postings.",
        error_messages={"invalid": "Enter a date as YYYY-MM-DD.", "required": "Choose a day."},
    )
    reason = forms.CharField(
        max_length=500, error_messages={"required": "Reopening closed days needs a reason."}
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Reopening closed days needs a reason.")
        return reason


def new_idempotency_key() -> str:
    """Return a fresh key for one rendering of a form that posts to the ledger."""
    return str(uuid.uuid4())


class JournalEntryForm(ServiceForm):
    """The header of a manual journal entry; its legs are a LegFormSet."""

    effective_date = BookDateField(label="Date")
    memo = forms.CharField(max_length=500, help_text="What this entry records.")
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the correction is needed. Auditors read this.",
        error_messages={"required": "A manual journal entry needs a reason."},
    )
    idempotency_key = forms.CharField(max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"effective_date": timezone.localdate(), "idempotency_key": new_idempotency_key()},
        )
        super().__init__(*args, **kwargs)

    def clean_memo(self) -> str:
        memo: str = self.cleaned_data["memo"].strip()
        if not memo:
            raise ValidationError("Enter a memo.")
        return memo

    def refused(self, error: FundError) -> None:
        """Show the refusal; a spent key is replaced, so submitting again posts deliberately."""
        if not isinstance(error, IdempotencyConflict):
            super().refused(error)
            return
        self.data = {**self.data, "idempotency_key": new_idempotency_key()}
        self.add_error(None, IDEMPOTENCY_CONFLICT)

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("A manual journal entry needs a reason.")
        return reason


class LegForm(forms.Form):
    """One leg: an account of the fund and a debit or a credit in the fund's currency."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), required=False)
    debit = forms.CharField(required=False, max_length=20)
    credit = forms.CharField(required=False, max_length=20)

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund
        account_field = cast("forms.ModelChoiceField[Account]", self.fields["account"])
        account_field.queryset = list_accounts(fund)
        account_field.empty_label = "Choose an account"
        for name in ("debit", "credit"):
            self.fields[name].widget.attrs.update(
                {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}
            )

    def clean_debit(self) -> int | None:
        return parse_leg_amount(self.cleaned_data["debit"], self.fund.currency)

    def clean_credit(self) -> int | None:
        return parse_leg_amount(self.cleaned_data["credit"], self.fund.currency)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        account, debit, credit = data.get("account"), data.get("debit"), data.get("credit")
        if debit is not None and credit is not None:
            raise ValidationError("Enter a debit or a credit on a line, not both.")
        if account is None and (debit is not None or credit is not None):
            raise ValidationError("Choose the account for this amount.")
        if account is not None and debit is None and credit is None:
            raise ValidationError("Enter a debit or a credit for this account.")
        return data

    def leg(self) -> Leg | None:
        """Return the leg this line describes, or None for a blank line."""
        account = self.cleaned_data.get("account")
        if account is None:
            return None
        debit, credit = self.cleaned_data.get("debit"), self.cleaned_data.get("credit")
        return Leg(account, debit if debit is not None else -(credit or 0))


class BaseLegFormSet(forms.BaseFormSet[LegForm]):
    """The legs of a journal entry: at least two, debits equal to credits."""

    def clean(self) -> None:
        if any(self.errors):
            return
        legs = self.legs()
        if len(legs) < 2:
            raise ValidationError("A journal entry needs at least two legs.")
        if len({leg.account.pk for leg in legs}) < len(legs):
            raise ValidationError("Use each account on one line only.")
        debits = sum(leg.amount_cents for leg in legs if leg.amount_cents > 0)
        credits = -sum(leg.amount_cents for leg in legs if leg.amount_cents < 0)
        if debits != credits:
            currency = self.form_kwargs["fund"].currency
            raise ValidationError(
                f"Debits {money.format_amount(debits, currency)} and credits "
                f"{money.format_amount(credits, currency)} differ by "
                f"{money.format_amount(abs(debits - credits), currency)}."
            )

    def legs(self) -> list[Leg]:
        """Return the legs of the filled-in lines."""
        return [leg for form in self.forms if (leg := form.leg()) is not None]


def leg_formset(rows: int = DEFAULT_LEGS) -> type[BaseLegFormSet]:
    """Return a formset class of journal legs with `rows` blank lines (at most MAX_LEGS in all)."""
    formset = forms.formset_factory(
        LegForm,
        formset=BaseLegFormSet,
        extra=max(0, min(rows, MAX_LEGS)),
        max_num=MAX_LEGS,
        validate_max=True,
        absolute_max=MAX_LEGS,
    )
    return cast("type[BaseLegFormSet]", formset)


def typed_lines(data: Mapping[str, str], prefix: str = "legs") -> list[dict[str, str]]:
    """Return the journal lines as typed (account id, debit, credit), to show them again."""
    try:
        count = min(int(data.get(f"{prefix}-TOTAL_FORMS", "0")), MAX_LEGS)
    except ValueError:
        count = 0
    return [
        {
            name: str(data.get(f"{prefix}-{index}-{name}", ""))[:20]
            for name in ("account", "debit", "credit")
        }
        for index in range(max(count, 0))
    ]


def typed_totals(lines: list[dict[str, str]], currency: str) -> tuple[int, int]:
    """Return the debits and credits typed so far, in minor units, leaving out what won't parse."""
    totals = [0, 0]
    for line in lines:
        for side, name in enumerate(("debit", "credit")):
            with contextlib.suppress(InvalidAmount):
                totals[side] += money.parse_amount(line[name], currency) if line[name] else 0
    return totals[0], totals[1]


class ReverseForm(ServiceForm):
    """Reverse a transaction: post its mirror today, with a memo saying why."""

    memo = forms.CharField(
        max_length=500,
        label="Why reverse it?",
        error_messages={"required": "Enter a memo saying why the transaction is reversed."},
    )

    def clean_memo(self) -> str:
        memo: str = self.cleaned_data["memo"].strip()
        if not memo:
            raise ValidationError("Enter a memo saying why the transaction is reversed.")
        return memo
