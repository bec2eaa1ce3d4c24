"""Reading a county's case list: the data rows of a CSV or XLSX file, as text, by column name.

Nothing here judges a value; :mod:`dashboard.imports.row_check` does. What is refused here is a
file that cannot be a case list at all: missing, not CSV/XLSX, unreadable, or a header with an
unknown, repeated or missing column (a typo must not pass as an empty column).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

COLUMNS: tuple[str, ...] = (
    "external_ref", "source", "category", "received_at", "lon", "lat", "grid_code", "people_involved", "tier",
    "status", "resolved_at", "satisfaction", "description",
)
REQUIRED_COLUMNS = frozenset({"external_ref", "source", "category", "received_at", "status"})


class CaseImportError(ValueError):
    """A file that cannot be read as a case list at all (missing, unknown format, bad header)."""


@dataclass(slots=True)
class RawRow:
    """One non-blank data row as text; ``number`` is the spreadsheet row (the header is row 1)."""

    number: int
    values: Mapping[str, str]
    extra_cells: bool = False
    """A cell outside the named columns holds something."""


def read_rows(path: Path) -> list[RawRow]:
    """The data rows of a CSV (UTF-8, BOM optional) or XLSX file; blank rows are skipped."""
    if not path.is_file():
        raise CaseImportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(path)
    elif suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path)
    else:
        raise CaseImportError(f"{path}: expected a .csv or .xlsx file")
    try:
        header = next(iter(records), None)
        if header is None:
            raise CaseImportError(f"{path}: the file is empty")
        names = _header_names(path, header)
        width = max(names) + 1
        ordered = [names.get(i, "") for i in range(width)]
        gaps = [i for i in range(width) if i not in names]
        rows: list[RawRow] = []
        for number, cells in enumerate(records, start=2):
            if not any(cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            values = dict(zip(ordered, cells))
            extra = len(cells) > width and any(cells[width:])
            if gaps:
                extra = extra or any(cells[i] for i in gaps)
                del values[""]
            rows.append(RawRow(number, values, extra))
    except UnicodeDecodeError as error:
        raise CaseImportError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise CaseImportError(f"{path}: not a readable CSV file ({error})") from None
    return rows


def _csv_records(path: Path) -> Iterable[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for record in csv.reader(handle):
            yield [cell.strip() for cell in record]


def _xlsx_records(path: Path) -> Iterable[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise CaseImportError(f"{path}: not a readable XLSX workbook ({error})") from None
    try:
        sheet = book.worksheets[0]
        for record in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in record]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would hold; spreadsheet dates carry no offset and will be refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header_names(path: Path, header: Sequence[str]) -> dict[int, str]:
    """Cell index → column name; unknown or missing columns refuse the file."""
    names: dict[int, str] = {}
    for i, cell in enumerate(header):
        name = cell.strip().lower()
        if not name:
            continue
        if name not in COLUMNS:
            raise CaseImportError(f"{path}: unknown column {cell!r}; columns are {', '.join(COLUMNS)}")
        if name in names.values():
            raise CaseImportError(f"{path}: column {name!r} appears twice")
        names[i] = name
    missing = sorted(REQUIRED_COLUMNS - set(names.values()))
    if missing:
        raise CaseImportError(f"{path}: missing column(s) {', '.join(missing)}")
    present = set(names.values())
    if "grid_code" not in present and not {"lon", "lat"} <= present:
        raise CaseImportError(f"{path}: needs a grid_code column or both lon and lat columns")
    return names
