"""Hostile files (issue 18 item 10): an XLSX beyond the caps is refused, with a clear error,
before a cell of it is read."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from dashboard.domain.ledger_words import builtin_words
from dashboard.imports.case_file import CaseImportError, FileCaps, read_ledger
from dashboard.imports.case_import import file_caps
from dashboard.settings import load_settings
from tests.dashboard.imports.ledger_fixtures import march_ledger, write_csv, write_xlsx


@pytest.fixture
def never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to read a sheet's rows fails the test: a refusal must come before reading."""
    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail("a row of the sheet was read")

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", refuse)


def _rewritten(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """``source`` with some zip members replaced (or added)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, change.pop(item.filename, None) or old.read(item.filename))
        for name, data in change.items():
            new.writestr(name, data)
    return target


def test_a_zip_bomb_is_refused_by_its_unpacked_size_before_reading(tmp_path: Path, never_read: None) -> None:
    """201 MB of zeros hidden in a workbook: a few hundred KB on disk, refused at the default 200 MB."""
    path = write_xlsx(tmp_path / "ok.xlsx", march_ledger()[:2])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        chunk = bytes(1024 * 1024)
        with new.open("xl/media/padding.bin", "w", force_zip64=True) as member:
            for _ in range(201):
                member.write(chunk)
    assert bomb.stat().st_size < 2 * 1024 * 1024

    with pytest.raises(CaseImportError, match=r"unpacks to 21\d+ bytes, more than the 209715200 allowed; refused before"):
        read_ledger(bomb, builtin_words(), FileCaps())


def test_a_huge_declared_dimension_is_refused_before_reading(tmp_path: Path, never_read: None) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", march_ledger()[:2])
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    assert b"<dimension" in sheet
    huge = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', sheet)
    hostile = _rewritten(path, tmp_path / "huge.xlsx", {"xl/worksheets/sheet1.xml": huge})

    with pytest.raises(CaseImportError, match=r"declares 1048576 rows × 16384 columns \(A1:XFD1048576\), beyond the "
                                              r"200000 rows × 200 columns allowed; refused before reading"):
        read_ledger(hostile, builtin_words(), FileCaps())


def test_rows_and_columns_beyond_the_caps_are_refused_while_reading_a_sheet_without_a_dimension(
        tmp_path: Path) -> None:
    """A sheet need not declare its size: then the rows and cells met are counted against the caps."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["external_ref", "source", "category", "received_at", "status", "grid_code"])
    for n in range(30):
        sheet.append([f"r-{n}", "walk_in", "land", "2025-03-05 09:00", "received", "990101001001001"])
    path = tmp_path / "long.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    undeclared = _rewritten(path, tmp_path / "undeclared.xlsx",
                            {"xl/worksheets/sheet1.xml": re.sub(rb"<dimension [^>]*/>", b"", sheet_xml)})

    with pytest.raises(CaseImportError, match="more than 10 data rows"):
        read_ledger(undeclared, builtin_words(), FileCaps(max_rows=10))
    assert len(read_ledger(undeclared, builtin_words(), FileCaps(max_rows=30)).rows) == 30

    wide = tmp_path / "wide.csv"
    wide.write_text("external_ref,source,category,received_at,status,grid_code\n" + "x," * 300 + "\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match="row 2 has 301 cells, more than the 200 columns allowed"):
        read_ledger(wide, builtin_words(), FileCaps())


def test_a_csv_beyond_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", march_ledger(), "utf-8")
    with pytest.raises(CaseImportError, match="more than the 1000 allowed"):
        read_ledger(path, builtin_words(), FileCaps(max_unpacked_bytes=1000))


def test_the_caps_are_settings() -> None:
    caps = file_caps(load_settings({"MEDIATION_IMPORT_MAX_ROWS": "5000", "MEDIATION_IMPORT_MAX_COLUMNS": "50",
                                    "MEDIATION_IMPORT_MAX_UNPACKED_MB": "20"}))
    assert caps == FileCaps(max_rows=5000, max_columns=50, max_unpacked_bytes=20 * 1024 * 1024)
    assert file_caps(load_settings({})) == FileCaps()


def test_a_file_that_is_no_zip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CaseImportError, match="not a readable XLSX workbook"):
        read_ledger(path, builtin_words(), FileCaps())
