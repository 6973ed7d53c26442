"""manage.py import_facilities FILE: add or update detention facilities from a CSV file.

The file has a header `name,city,state` and one facility a row; facilities are matched by name.
A bad file or row imports nothing and says which row is wrong.
"""

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.errors import CaseError
from cases.models import Facility
from cases.services.cases import FacilityRow, import_facilities

HEADER = ["name", "city", "state"]


class Command(BaseCommand):
    help = "Add or update detention facilities from a CSV file with the header name,city,state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        rows = read_facilities(options["file"])
        try:
            result = import_facilities(actor=None, rows=rows)
        except CaseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Facilities: {result.added} added, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )


def read_facilities(path: Path) -> list[FacilityRow]:
    """Return the facilities of a CSV file, or raise CommandError naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not a UTF-8 text file.") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot be read ({error.strerror}).") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise CommandError(f"{path}: the file is empty.")
    if [column.strip().lower() for column in header] != HEADER:
        raise CommandError(f"{path}: the first row must be the header name,city,state.")
    rows: list[FacilityRow] = []
    first_seen: dict[str, int] = {}
    try:
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            row = _facility(number, values)
            if row.name in first_seen:
                raise CommandError(
                    f"Row {number}: {row.name} is already on row {first_seen[row.name]}."
                )
            first_seen[row.name] = number
            rows.append(row)
    except csv.Error as error:
        raise CommandError(f"{path}: not a CSV file ({error}).") from None
    return rows


def _facility(number: int, values: list[str]) -> FacilityRow:
    if len(values) != len(HEADER):
        raise CommandError(f"Row {number}: expected 3 values (name,city,state), got {len(values)}.")
    name, city, state = (" ".join(value.split()) for value in values)
    if not name:
        raise CommandError(f"Row {number}: a facility needs a name.")
    if len(name) > _max_length("name") or len(city) > _max_length("city"):
        raise CommandError(
            f"Row {number}: a name is at most {_max_length('name')} characters, "
            f"a city at most {_max_length('city')}."
        )
    state = state.upper()
    if state and not (len(state) == 2 and state.isascii() and state.isalpha()):
        raise CommandError(f"Row {number}: a state is two letters, like TX.")
    return FacilityRow(name=name, city=city, state=state)


def _max_length(field: str) -> int:
    length: int = getattr(Facility._meta.get_field(field), "max_length", 0)
    return length
