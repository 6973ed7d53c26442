"""CSV files that a spreadsheet opens safely: no cell a person typed is read as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and, after
a tab or carriage return, what follows) as a formula, which can reach the network or run
commands ("CSV injection"). Every text cell that starts so gets a leading apostrophe, which the
spreadsheet shows as text. Numbers are written as they are: a refund of -12.50 stays a number.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Return a value as the text of a CSV cell, with text that starts like a formula defused."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Yield each row as one line of CSV, every cell passed through safe_cell."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
