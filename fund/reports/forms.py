"""The reports screen's form: which report, for which fund, over which period, in which format."""

from datetime import date, timedelta
from enum import StrEnum
from typing import Any, cast

from django import forms
from django.utils import timezone

from fund.ledger.forms import BookDateField
from fund.ledger.models import Fund
from fund.ledger.queries import list_funds
from fund.reports.models import ReportRun
from fund.reports.registry import Period, catalogue
from fund.reports.services import BEANCOUNT_KIND

# The beancount export of a fund's whole ledger: not a tabular report, so not in the catalogue.
LEDGER_EXPORT = BEANCOUNT_KIND
LEDGER_EXPORT_TITLE = "Whole ledger (Beancount)"
LEDGER_EXPORT_DESCRIPTION = (
    "Every transaction of the fund as a plain-text Beancount file, with a balance assertion per "
    "account, for an auditor to check with bean-check."
)
Format = ReportRun.Format
TABLE_FORMATS = (Format.PDF, Format.PDFA, Format.CSV)


class PeriodChoice(StrEnum):
    """The periods offered; the "this" periods end today, so no report covers days to come."""

    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    THIS_QUARTER = "this-quarter"
    LAST_QUARTER = "last-quarter"
    THIS_YEAR = "this-year"
    LAST_YEAR = "last-year"
    CUSTOM = "custom"


# Funds keep their books by calendar year (Fund has no fiscal year start), so a fiscal year is one.
PERIOD_LABELS = {
    PeriodChoice.THIS_MONTH: "This month, to date",
    PeriodChoice.LAST_MONTH: "Last month",
    PeriodChoice.THIS_QUARTER: "This quarter, to date",
    PeriodChoice.LAST_QUARTER: "Last quarter",
    PeriodChoice.THIS_YEAR: "This fiscal year (calendar year), to date",
    PeriodChoice.LAST_YEAR: "Last fiscal year (calendar year)",
    PeriodChoice.CUSTOM: "Custom dates",
}


def _quarter_start(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def preset_period(choice: PeriodChoice, today: date) -> Period:
    """Return the dates a preset period covers, as seen on `today`."""
    month_start = today.replace(day=1)
    quarter_start = _quarter_start(today)
    year_start = today.replace(month=1, day=1)
    if choice is PeriodChoice.THIS_MONTH:
        return Period(month_start, today)
    if choice is PeriodChoice.LAST_MONTH:
        last_day = month_start - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day)
    if choice is PeriodChoice.THIS_QUARTER:
        return Period(quarter_start, today)
    if choice is PeriodChoice.LAST_QUARTER:
        last_day = quarter_start - timedelta(days=1)
        return Period(_quarter_start(last_day), last_day)
    if choice is PeriodChoice.THIS_YEAR:
        return Period(year_start, today)
    if choice is PeriodChoice.LAST_YEAR:
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    raise ValueError(f"{choice} is not a preset period.")


def report_choices() -> list[tuple[str, str]]:
    """Return every report a fund's books can be exported as, by kind, for a choice field."""
    return [
        *((kind, report.title) for kind, report in catalogue().items()),
        (LEDGER_EXPORT, LEDGER_EXPORT_TITLE),
    ]


def report_descriptions() -> list[tuple[str, str, bool]]:
    """Return each report's title, description and whether it is drawn "as of" one day."""
    return [
        *((report.title, report.description, report.as_of) for report in catalogue().values()),
        (LEDGER_EXPORT_TITLE, LEDGER_EXPORT_DESCRIPTION, False),
    ]


def format_problem(kind: str, fmt: str) -> str | None:
    """Return why a report cannot be had in a format, or None when it can."""
    if kind == LEDGER_EXPORT and fmt != Format.BEANCOUNT:
        return "The whole ledger exports as Beancount only."
    if kind != LEDGER_EXPORT and fmt == Format.BEANCOUNT:
        return "Only the whole ledger exports as Beancount: choose PDF, PDF/A-3b or CSV."
    return None


def is_as_of(kind: str) -> bool:
    """Return whether the report of this kind shows balances at the end of one day."""
    report = catalogue().get(kind)
    return report is not None and report.as_of


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


DATE_ERRORS = {"invalid": "Enter a date as YYYY-MM-DD."}


class ReportForm(forms.Form):
    """Ask for a report (POST); `cleaned_data["period"]` is the Period it covers."""

    kind = forms.ChoiceField(
        label="Report", error_messages={"invalid_choice": "Choose a report from the list."}
    )
    fund = forms.ModelChoiceField(
        queryset=Fund.objects.none(),
        to_field_name="slug",
        empty_label=None,
        error_messages={"invalid_choice": "Choose a fund from the list."},
    )
    period = forms.ChoiceField(
        choices=[(choice.value, PERIOD_LABELS[choice]) for choice in PeriodChoice],
        initial=PeriodChoice.LAST_MONTH.value,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a period from the list."},
    )
    start = BookDateField(
        required=False,
        label="From",
        help_text="Custom dates only. A report as of a day needs only the To date.",
        error_messages=DATE_ERRORS,
    )
    end = BookDateField(required=False, label="To", error_messages=DATE_ERRORS)
    format = forms.ChoiceField(
        choices=Format.choices,
        initial=Format.PDF.value,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a format from the list."},
    )

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        cast("forms.ChoiceField", self.fields["kind"]).choices = report_choices()
        funds = cast("forms.ModelChoiceField[Fund]", self.fields["fund"])
        funds.queryset = list_funds()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, fmt, choice = data.get("kind"), data.get("format"), data.get("period")
        if kind and fmt and (problem := format_problem(kind, fmt)):
            self.add_error("format", problem)
        if choice:
            period = self._period(PeriodChoice(choice), as_of=kind is not None and is_as_of(kind))
            if period is not None:
                data["period"] = period
        return data

    def _period(self, choice: PeriodChoice, *, as_of: bool) -> Period | None:
        if choice is not PeriodChoice.CUSTOM:
            return preset_period(choice, self.today)
        if "start" in self.errors or "end" in self.errors:
            return None
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if end is None:
            self.add_error("end", "Enter the last day the report covers.")
            return None
        if as_of:
            # Balances as of a day: only the day counts; the period is that one day.
            return Period(end, end)
        if start is None:
            self.add_error("start", "Enter the first day the report covers.")
            return None
        if start > end:
            self.add_error("end", "The To date is before the From date.")
            return None
        return Period(start, end)
