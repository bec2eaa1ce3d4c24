"""Reading a county's case list (a ledger, 台账): the data rows of a CSV or XLSX file, as text, by field.

A ledger arrives as counties keep it: an XLSX with title rows above the header, or a CSV saved
by Excel in UTF-8 (with or without BOM), GBK or GB18030. The encoding is detected and named; the
header row is the first of the file's first rows in which at least three cells name a field
(our English names, the Chinese headers of ``dashboard.domain.ledger_words``, or a county's own);
columns that name no field (序号, 备注 …) are reported and ignored.

Nothing here judges a value; :mod:`dashboard.imports.row_check` does. What is refused here is a
file that cannot be a case list at all: missing, not CSV/XLSX, unreadable, beyond the size caps,
without a header row, with two columns giving one field, or without a column a case needs.

An XLSX is a zip of XML: a few kilobytes can declare a sheet of a million rows or unpack to
gigabytes. Before a cell is read, the zip's declared unpacked sizes and the first sheet's
declared ``<dimension>`` are checked against :class:`FileCaps`, and while reading, the rows and
columns actually met are counted against the same caps.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from difflib import get_close_matches
from pathlib import Path

from dashboard.domain.ledger_words import FIELDS, LedgerWords, builtin_words, normal

COLUMNS: tuple[str, ...] = (
    "external_ref", "source", "category", "received_at", "lon", "lat", "grid_code", "people_involved", "tier",
    "status", "resolved_at", "satisfaction", "description",
)
"""Our English column names of a case list, in report order (the ledger's fields besides these:
``ledger_words.FIELDS``)."""
REQUIRED_COLUMNS = frozenset({"external_ref", "source", "category", "received_at", "status"})
HEADER_SEARCH_ROWS = 20
"""How many rows from the top may hold titles before the header."""
HEADER_MIN_FIELDS = 3
"""A header row names at least this many fields (a title row names none)."""


class CaseImportError(ValueError):
    """A file that cannot be read as a case list at all (missing, unknown format, bad header)."""


@dataclass(frozen=True)
class FileCaps:
    """How big a file may be before it is refused unread (settings ``MEDIATION_IMPORT_MAX_*``)."""

    max_rows: int = 200_000
    max_columns: int = 200
    max_unpacked_bytes: int = 200 * 1024 * 1024
    """An XLSX's unpacked size (the sum of its zip members), or a CSV's size."""
    max_zip_members: int = 10_000


@dataclass(slots=True)
class RawRow:
    """One non-blank data row as text, by field; ``number`` is the spreadsheet row (1-based, titles included)."""

    number: int
    values: Mapping[str, str]
    extra_cells: bool = False
    """A cell outside the named columns holds something."""


@dataclass(frozen=True, slots=True)
class Column:
    """One header cell: its position (0-based), its text, the field it gives, and a hint when it gives none."""

    index: int
    header: str
    field: str | None
    hint: str | None = None
    """For an ignored column whose header looks like a field name: that name ("did you mean")."""


@dataclass
class LedgerFile:
    """A file read: its rows and what was found on the way."""

    path: Path
    kind: str
    """``CSV`` or ``XLSX``."""
    encoding: str | None
    """The detected text encoding of a CSV (``UTF-8``, ``UTF-8 (BOM)``, ``GBK``, ``GB18030``)."""
    header_row: int
    columns: list[Column]
    rows: list[RawRow] = field(default_factory=list)

    @property
    def fields(self) -> set[str]:
        return {c.field for c in self.columns if c.field}

    @property
    def ignored(self) -> list[Column]:
        return [c for c in self.columns if c.field is None]

    def describe(self) -> str:
        """One line: what was read and how (the encoding named)."""
        how = f"{self.kind}, {self.encoding}" if self.encoding else self.kind
        return (f"{self.path.name}: {how}, header on row {self.header_row}, {len(self.rows)} data rows, "
                f"{len(self.columns) - len(self.ignored)} columns used, {len(self.ignored)} ignored")


def read_rows(path: Path, words: LedgerWords | None = None, caps: FileCaps | None = None) -> list[RawRow]:
    """The data rows of a CSV or XLSX file; blank rows are skipped."""
    return read_ledger(path, words, caps).rows


def read_ledger(path: Path, words: LedgerWords | None = None, caps: FileCaps | None = None) -> LedgerFile:
    """Read a ledger: find its header, map its columns, and return its non-blank data rows."""
    words = words or builtin_words()
    caps = caps or FileCaps()
    if not path.is_file():
        raise CaseImportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, text = _decoded(path, caps)
        records: Generator[list[str], None, None] = _csv_records(path, text)
        kind = "CSV"
    elif suffix in (".xlsx", ".xlsm"):
        encoding, kind = None, "XLSX"
        records = _xlsx_records(path, caps)
    else:
        raise CaseImportError(f"{path}: expected a .csv or .xlsx file")
    try:
        return _read(path, kind, encoding, records, words, caps)
    finally:
        records.close()  # an XLSX's workbook is closed at once, whatever was refused


def _read(path: Path, kind: str, encoding: str | None, records: Iterator[list[str]], words: LedgerWords,
          caps: FileCaps) -> LedgerFile:
    numbered = enumerate(records, start=1)
    header_row, columns = _find_header(path, numbered, words)
    ledger = LedgerFile(path, kind, encoding, header_row, columns)
    _check_columns(path, columns)
    width = max(c.index for c in columns) + 1
    named = {c.index: c.field for c in columns if c.field}
    unnamed = [i for i in range(width) if i not in {c.index for c in columns}]
    for number, cells in numbered:
        if len(cells) > caps.max_columns:
            raise CaseImportError(f"{path}: row {number} has {len(cells)} cells, more than the "
                                  f"{caps.max_columns} columns allowed")
        if number - header_row > caps.max_rows:
            raise CaseImportError(f"{path}: more than {caps.max_rows} data rows (the limit)")
        if not any(cells):
            continue
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        values = {name: cells[i] for i, name in named.items()}
        extra = (len(cells) > width and any(cells[width:])) or any(cells[i] for i in unnamed)
        ledger.rows.append(RawRow(number, values, extra))
    return ledger


def _find_header(path: Path, numbered: Iterator[tuple[int, list[str]]],
                 words: LedgerWords) -> tuple[int, list[Column]]:
    """The first row, among the first ``HEADER_SEARCH_ROWS``, that names at least ``HEADER_MIN_FIELDS`` fields."""
    seen = 0
    for number, cells in numbered:
        seen += 1
        found = [words.field_of(cell) if cell else None for cell in cells]
        if sum(1 for f in found if f) >= HEADER_MIN_FIELDS:
            known = words.known_headers()
            columns = []
            for index, (cell, name) in enumerate(zip(cells, found, strict=True)):
                if not cell:
                    continue
                hint = None
                if name is None:
                    close = get_close_matches(normal(cell), known, n=1, cutoff=0.75)
                    hint = words.field_of(close[0]) if close else None
                columns.append(Column(index, cell, name, hint))
            return number, columns
        if seen >= HEADER_SEARCH_ROWS:
            break
    if seen == 0:
        raise CaseImportError(f"{path}: the file is empty")
    raise CaseImportError(
        f"{path}: no header row in the first {min(seen, HEADER_SEARCH_ROWS)} rows: a header names at least "
        f"{HEADER_MIN_FIELDS} of the fields ({', '.join(FIELDS)}) or their Chinese headers (登记时间, 纠纷类型 …)")


def _check_columns(path: Path, columns: Sequence[Column]) -> None:
    """Two columns giving one field, or a field a case needs missing, refuse the file."""
    first: dict[str, Column] = {}
    for column in columns:
        if column.field is None:
            continue
        if column.field in first:
            raise CaseImportError(f"{path}: columns {first[column.field].header!r} and {column.header!r} "
                                  f"both give {column.field}; keep one")
        first[column.field] = column
    present = set(first)
    hints = {c.hint: c.header for c in columns if c.hint}
    missing = sorted(REQUIRED_COLUMNS - present)
    if missing:
        said = [f"{name} (did you mean {hints[name]!r}?)" if name in hints else name for name in missing]
        raise CaseImportError(f"{path}: missing column(s) {', '.join(said)}")
    if not ({"grid_code", "village", "township"} & present or {"lon", "lat"} <= present):
        raise CaseImportError(f"{path}: needs the place: township and village columns (乡镇, 村（社区）), "
                              "a grid_code column, or both lon and lat columns")


def _decoded(path: Path, caps: FileCaps) -> tuple[str, str]:
    """(encoding name, text) of a CSV: UTF-8 with or without BOM, else GBK, else GB18030."""
    size = path.stat().st_size
    if size > caps.max_unpacked_bytes:
        raise CaseImportError(f"{path}: {size} bytes, more than the {caps.max_unpacked_bytes} allowed")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return "UTF-8 (BOM)", data[3:].decode("utf-8")
        except UnicodeDecodeError as error:
            raise CaseImportError(f"{path}: starts as UTF-8 but is not ({error.reason} at byte {error.start + 3})") \
                from None
    for name, codec in (("UTF-8", "utf-8"), ("GBK", "gbk"), ("GB18030", "gb18030")):
        try:
            return name, data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise CaseImportError(f"{path}: not UTF-8, GBK or GB18030 text")


def _csv_records(path: Path, text: str) -> Generator[list[str], None, None]:
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            yield [cell.strip() for cell in record]
    except csv.Error as error:
        raise CaseImportError(f"{path}: not a readable CSV file ({error})") from None


def check_xlsx_caps(path: Path, caps: FileCaps) -> None:
    """Refuse an XLSX whose zip declares more unpacked bytes or members than the caps allow.

    The declared sizes bound what can be unpacked: Python's zip reader never returns more than a
    member declares (and fails on a mismatch), so a lying header cannot get past this check.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise CaseImportError(f"{path}: not a readable XLSX workbook ({error})") from None
    if len(members) > caps.max_zip_members:
        raise CaseImportError(f"{path}: {len(members)} parts in the workbook, more than the "
                              f"{caps.max_zip_members} allowed; refused before reading")
    unpacked = sum(m.file_size for m in members)
    if unpacked > caps.max_unpacked_bytes:
        raise CaseImportError(f"{path}: unpacks to {unpacked} bytes, more than the {caps.max_unpacked_bytes} "
                              "allowed; refused before reading")


def _xlsx_records(path: Path, caps: FileCaps) -> Generator[list[str], None, None]:
    from openpyxl import load_workbook

    check_xlsx_caps(path, caps)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise CaseImportError(f"{path}: not a readable XLSX workbook ({error})") from None
    try:
        if not book.worksheets:
            raise CaseImportError(f"{path}: the workbook has no sheet")
        sheet = book.worksheets[0]
        rows, columns = sheet.max_row or 0, sheet.max_column or 0
        if rows > caps.max_rows + HEADER_SEARCH_ROWS or columns > caps.max_columns:
            raise CaseImportError(
                f"{path}: the sheet declares {rows} rows × {columns} columns ({sheet.calculate_dimension()}), "
                f"beyond the {caps.max_rows} rows × {caps.max_columns} columns allowed; refused before reading")
        sheet.reset_dimensions()  # read what is there, never pad rows up to a declared size
        for record in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in record]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would hold. A date cell carries no offset (local time, as a
    ledger's typed dates); a date cell at exactly midnight is written as the date alone, so it
    means 00:00 for receipt and 23:59 for resolution, as a typed date does."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return str(value).strip()
