"""CSV cells a spreadsheet reads as text: a typed value that starts like a formula is defused."""

import csv
import io
from decimal import Decimal

import pytest

from fund.reports.csv import csv_lines, safe_cell


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Local 26", "Local 26"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(typed, written):
    assert safe_cell(typed) == written


def test_numbers_and_blanks_are_written_as_they_are():
    assert safe_cell(-1250) == "-1250"
    assert safe_cell(Decimal("-12.50")) == "-12.50"
    assert safe_cell(None) == ""
    assert safe_cell(True) == "True"


def test_each_row_is_one_csv_line_that_reads_back_defused():
    lines = list(csv_lines([["Donor", "Amount"], ["=cmd|' /C calc'!A0", Decimal("5.00")]]))

    assert len(lines) == 2
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows == [["Donor", "Amount"], ["'=cmd|' /C calc'!A0", "5.00"]]
