"""The report registry: every app's reports, found by dotted path (fund imports no other app).

Each app declares its reports in its own `reports.py` as `REPORTS: tuple[Report, ...]`. A report
is a kind name (as the command line and the API spell it), a title, its columns, a query that
streams rows for a fund and a period, and a function that computes its totals. The engine in
`fund.reports` renders any of them to PDF, PDF/A-3b and CSV without knowing what they hold.

Rows carry only what an auditor may see: case references, never a person's name, A-number or
contact; donors by name only where they gave their name (an anonymous gift says "Anonymous").
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache

from django.utils.module_loading import import_string

from fund.ledger.models import Fund

# The most characters a PDF line (Report.pdf_line) may hold: at 7 pt DejaVu Sans Mono (0.602 em,
# 1.487 mm a character, report-pdf.css) 122 characters are 181 mm, within the 186 mm between an
# A4 page's margins (and a letter page's 192 mm).
LINE_CHARS = 122

# The apps whose reports.py the registry reads, in the order the catalogue lists them.
REPORT_MODULES = ("fund.reports.ledger", "cases.reports", "donations.reports")


class Cell(StrEnum):
    """How a column's values are written: money is integer cents, shown as dollars."""

    TEXT = "text"
    # A reference (a case's C-2026-0042, a ledger entry's number): never broken across lines.
    CODE = "code"
    MONEY = "money"
    DATE = "date"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    """One column of a report: its heading and how its cells are written."""

    title: str
    cell: Cell = Cell.TEXT


@dataclass(frozen=True)
class LineField:
    """A field of a report's PDF line: some of its columns, by index, in so many characters.

    A report printed as lines (`Report.pdf_line`) writes each row as one preformatted line of a
    monospaced face, its fields side by side at fixed widths: one table cell a row, which lays
    out in about a quarter of the time of five cells (measured). A text field too long for its
    width wraps onto continuation lines, in its own field; a MONEY field is right-aligned, and an
    amount longer than its field pushes left into the blank before it.
    """

    title: str
    columns: tuple[int, ...]
    chars: int
    cell: Cell = Cell.TEXT
    # Put between the non-empty values shown in the one field.
    joiner: str = " "


class Style(StrEnum):
    """What a row is: a plain line, a group's heading, or a subtotal closing a group."""

    LINE = "line"
    HEADING = "heading"
    SUBTOTAL = "subtotal"


@dataclass(frozen=True)
class Row:
    """One row of a report: a value per column (None is an empty cell) and its style."""

    values: tuple[object, ...]
    style: Style = Style.LINE


@dataclass(frozen=True)
class Period:
    """The dates a report covers, both inclusive. A report "as of" a date uses only `end`."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("The period starts after it ends.")


@dataclass(frozen=True)
class Total:
    """A labelled figure printed after the rows (and in the CSV's last rows), in cents."""

    label: str
    cents: int


@dataclass(frozen=True)
class Report:
    """A report an app offers: the engine renders it; the app knows only its rows and totals."""

    kind: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[Fund, Period], Iterator[Row]]
    totals: Callable[[Fund, Period], tuple[Total, ...]]
    # How many rows `rows` will yield, for the progress bar and the background threshold.
    count: Callable[[Fund, Period], int]
    # A report of balances "as of" a day (the trial balance) takes only the period's end.
    as_of: bool = False
    # Notes printed under the title (what the figures mean, what is left out and why).
    notes: tuple[str, ...] = field(default=())
    # A chart printed above the rows: SVG markup the report builds itself, every text in it
    # escaped, which the engine inlines in the PDF as it is (None: the report has no chart).
    chart: Callable[[Fund, Period], str] | None = None
    # The PDF prints each row as one line of these fields (LineField): every column once, in
    # order, the amounts last; empty: the PDF is a table, a column per column.
    pdf_line: tuple[LineField, ...] = field(default=())

    def __post_init__(self) -> None:
        shown = [i for group in self.pdf_line for i in group.columns]
        if self.pdf_line and shown != list(range(len(self.columns))):
            raise ImproperlyConfiguredReport(
                f"The PDF line of {self.kind!r} must show its columns once each, in order."
            )
        cells = [group.cell == Cell.MONEY for group in self.pdf_line]
        if cells != sorted(cells):
            raise ImproperlyConfiguredReport(f"The PDF line of {self.kind!r} ends in its amounts.")
        if sum(group.chars + 1 for group in self.pdf_line) - 1 > LINE_CHARS:
            raise ImproperlyConfiguredReport(
                f"The PDF line of {self.kind!r} is wider than {LINE_CHARS} characters."
            )


class UnknownReport(LookupError):
    """No app offers a report of that kind."""


@cache
def catalogue() -> dict[str, Report]:
    """Return every app's reports by kind, in the order the apps are listed."""
    reports: dict[str, Report] = {}
    for module in REPORT_MODULES:
        for report in import_string(f"{module}.REPORTS"):
            if report.kind in reports:
                raise ImproperlyConfiguredReport(f"Two reports are named {report.kind!r}.")
            reports[report.kind] = report
    return reports


def get_report(kind: str) -> Report:
    """Return the report of that kind, or raise UnknownReport naming the kinds there are."""
    try:
        return catalogue()[kind]
    except KeyError:
        raise UnknownReport(
            f"No report is called {kind!r}; the reports are: {', '.join(catalogue())}."
        ) from None


class ImproperlyConfiguredReport(RuntimeError):
    """Two apps offer reports of the same kind."""
