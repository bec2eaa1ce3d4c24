"""Ledgers as counties keep them (issue 14): title rows, Chinese headers and values, every date
shape, GBK and GB18030, places by name, a county's own words, the dry run, and one ledger giving
the same figures, equal to a plain SQL count, in every format."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from dashboard.cases import cache_ops
from dashboard.cli import app as cli
from dashboard.cli.context import CliState
from dashboard.domain.ledger_words import builtin_words, county_words
from dashboard.domain.periods import Period
from dashboard.imports.case_file import CaseImportError, read_ledger
from dashboard.imports.case_import import ImportResult, import_cases, preview
from dashboard.runtime import Runtime
from data_access import figure_queries, place_names
from data_access.models import AuditEntry, Case, CaseEvent
from tests.dashboard.imports.ledger_fixtures import (
    EXPECTED, HEADER, WORDS, Entry, march_ledger, save_ledger_county, write_csv, write_xlsx,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
FORMATS = ("xlsx", "utf-8", "utf-8-sig", "gbk", "gb18030")
WRITTEN = {"xlsx": None, "utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gbk": "GBK", "gb18030": "GBK"}
"""The encoding each file is detected as; a GB18030 file of GBK characters only is GBK, which reads the same."""


@pytest.fixture
def county(runtime: Runtime) -> str:
    with runtime.sessions() as session, session.begin():
        return save_ledger_county(session)


def _write(kind: str, path: Path, entries: list[Entry], **options: object) -> Path:
    if kind == "xlsx":
        return write_xlsx(path.with_suffix(".xlsx"), entries, **options)  # type: ignore[arg-type]
    return write_csv(path.with_suffix(".csv"), entries, kind, **options)  # type: ignore[arg-type]


def _run(rt: Runtime, path: Path, words: str | None = WORDS, **options: object) -> ImportResult:
    chosen = county_words(words) if words else builtin_words()
    return import_cases(rt, path, now=NOW, words=chosen, **options)  # type: ignore[arg-type]


def _count(rt: Runtime, model: type[object]) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", FORMATS)
def test_one_ledger_in_every_format_gives_the_same_figures_equal_to_sql(
        runtime: Runtime, county: str, tmp_path: Path, kind: str) -> None:
    path = _write(kind, tmp_path / "台账", march_ledger())

    result = _run(runtime, path)

    assert result.errors == () and (result.rows, result.imported, result.rejected) == (20, 20, 0)
    assert result.ledger is not None and result.ledger.encoding == WRITTEN[kind] and result.ledger.header_row == 3
    assert [c.header for c in result.ledger.ignored] == ["序号", "备注"]
    with runtime.sessions() as session:
        counts = figure_queries.period_counts(session, county_code=county, start=MARCH.start, end=MARCH.end)
        plain = session.execute(text(
            "SELECT count(*), sum(CASE WHEN status IN ('resolved', 'followed_up') THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status = 'followed_up' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END) "
            'FROM "case" WHERE county_code = :county AND received_at >= :start AND received_at < :end'),
            {"county": county, "start": MARCH.start.replace(tzinfo=None), "end": MARCH.end.replace(tzinfo=None)}).one()
        by_township = dict(session.execute(text(
            'SELECT township_code, count(*) FROM "case" WHERE county_code = :county GROUP BY township_code'),
            {"county": county}).all())
        townships = {t: figure_queries.period_counts(session, county_code=county, start=MARCH.start, end=MARCH.end,
                                                     area=("township", t)).received for t in by_township}
    figures = (counts.received, counts.closed, counts.followed_up, counts.satisfied)
    assert figures == tuple(int(v) for v in plain) == (
        EXPECTED["received"], EXPECTED["closed"], EXPECTED["followed_up"], EXPECTED["satisfied"])
    assert townships == by_township == EXPECTED["township"]
    with runtime.sessions() as session:
        assert list(cache_ops.reconcile(session, runtime.redis, county, runtime.rules)) == [], "the screens equal SQL"

    # The same content in every other format is the same cases: all already stored, none new.
    for other in FORMATS:
        if other != kind:
            again = _run(runtime, _write(other, tmp_path / f"again-{other}", march_ledger()))
            assert (again.imported, again.duplicates, again.rejected) == (0, 20, 0), other


def test_values_times_places_and_personal_data_land_as_the_ledger_means(
        runtime: Runtime, county: str, tmp_path: Path) -> None:
    result = _run(runtime, write_xlsx(tmp_path / "台账.xlsx", march_ledger()))
    assert result.imported == 20
    with runtime.sessions() as session:
        cases = {c.external_ref: c for c in session.scalars(select(Case))}
        centres = place_names.county_places(session, county)

    first = cases["SL-2025-0001"]
    assert (first.source, first.category, first.tier, first.status) == ("hotline_12345", "land", "village", "received")
    assert first.received_at == datetime(2025, 3, 5, 1, 30, tzinfo=UTC), "2025/3/5 9:30 Asia/Shanghai"
    assert (first.village_code, first.grid_code) == ("990101001001", "990101001001002"), \
        "the village's grid that holds its centre point (the second grid here)"
    assert (first.party_name, first.party_phone, first.party_id_number, first.address) == (
        "张三", "13800138000", "220283198001011234", "平安镇平安村三组"), "stored as the write path stores it"
    assert cases["SL-2025-0002"].received_at == datetime(2025, 3, 5, 2, 15, tzinfo=UTC), "an Excel date cell"
    assert cases["SL-2025-0003"].village_code == "990101001002", "保安村 in 平安镇 is its 保安村民委员会"
    assert cases["SL-2025-0003"].resolved_at == datetime(2025, 3, 8, 8, tzinfo=UTC), "2025年3月8日 16:00"
    fourth = cases["SL-2025-0004"]
    assert fourth.received_at == datetime(2025, 3, 6, 16, tzinfo=UTC), "a date alone is 00:00 for receipt"
    assert fourth.resolved_at == datetime(2025, 3, 9, 15, 59, tzinfo=UTC), "and 23:59 for resolution"
    assert (fourth.village_code, fourth.satisfaction) == ("990101001003", "satisfied")
    assert cases["SL-2025-0005"].village_code == "990101002001", "法特村委会 is 法特村, not 法特社区"
    assert cases["SL-2025-0006"].category == "labour_wages", "the county's own word 劳资债务"
    assert cases["SL-2025-0007"].village_code == "990101002003", "township 法特 without its suffix"
    assert cases["SL-2025-0011"].village_code == "990101002002" and cases["SL-2025-0011"].alert_level == "red"
    assert cases["SL-2025-0005"].satisfaction == "satisfied" and cases["SL-2025-0007"].satisfaction == "neutral"
    assert cases["SL-2025-0010"].satisfaction == "dissatisfied"
    assert cases["SL-2025-0019"].source == "hotline_12345", "full-width １２３４５"
    township_only = cases["SL-2025-0012"]
    fate = next(t for t in centres.townships if t.name == "法特镇")
    assert township_only.grid_code == fate.grid_code and township_only.township_code == fate.code, \
        "a township alone: the grid holding the township's centre"
    assert cases["SL-2025-0020"].resolved_at == datetime(2025, 3, 31, 15, 59, tzinfo=UTC)
    assert cases["SL-2025-0002"].party_name is None


def test_unknown_and_ambiguous_places_are_row_errors_naming_the_closest(
        runtime: Runtime, county: str, tmp_path: Path) -> None:
    good = march_ledger()[0]

    def at(ref: str, township: str, village: str) -> Entry:
        cells = list(good.cells)
        cells[1], cells[5], cells[6] = ref, township, village
        return Entry(cells, {})

    path = write_csv(tmp_path / "places.csv", [
        at("P-1", "法特镇", "法特"), at("P-2", "", "保安"), at("P-3", "平安镇", "平安屯"), at("P-4", "白旗镇", "平安村"),
        at("P-5", "平安镇", "平安村"), at("P-6", "", ""),
    ], "gbk")

    result = _run(runtime, path)

    assert (result.imported, result.rejected) == (0, 5)
    errors = {e.row: e for e in result.errors}
    assert (errors[4].column, errors[4].value) == ("village", "法特")
    assert "fits 2 places" in errors[4].message and "法特村（法特镇）" in errors[4].message \
        and "法特社区（法特镇）" in errors[4].message
    assert "fits 2 places" in errors[5].message and "give the township" in errors[5].message
    assert errors[6].column == "village" and "no village in 平安镇 named '平安屯'" in errors[6].message
    assert "closest: 平安村（平安镇）" in errors[6].message
    assert errors[7].column == "township" and "closest: 平安镇" in errors[7].message
    assert errors[9].column == "village" and "give the township and village" in errors[9].message
    assert 8 not in errors
    assert _count(runtime, Case) == 0, "all or nothing"

    skipped = _run(runtime, path, all_or_nothing=False)
    assert (skipped.imported, skipped.rejected) == (1, 5)


def test_unmapped_values_fail_with_the_accepted_words_until_the_county_adds_its_own(
        runtime: Runtime, county: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "words.csv", march_ledger(), "utf-8-sig")

    without = _run(runtime, path, words=None)
    assert (without.imported, without.rejected) == (0, 1)
    error = without.errors[0]
    assert (error.row, error.column, error.value) == (9, "category", "劳资债务")
    assert "labour_wages (劳资欠薪)" in error.message and "words file" in error.message

    words_file = tmp_path / "ledger_words.toml"
    words_file.write_text(WORDS, encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["cases", "import", str(path), "--words", str(words_file)],
                                obj=CliState(runtime))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("20 rows: 20 imported")


def test_a_bad_words_file_is_refused_whole() -> None:
    with pytest.raises(ValueError, match="the code must be one of"):
        county_words('[category]\n"劳资债务" = "wages"\n')
    with pytest.raises(ValueError, match="unknown table"):
        county_words('[colour]\n"红" = "red"\n')
    words = county_words('[headers]\n"案件来源" = "source"\n[source]\n"镇综治中心" = "walk_in"\n')
    assert words.field_of("案件来源") == "source" and words.code_of("source", "镇综治中心") == "walk_in"


def test_the_dry_run_shows_the_mapping_and_writes_nothing(runtime: Runtime, county: str, tmp_path: Path) -> None:
    entries = march_ledger()
    entries[3].cells[3] = "传真"            # an unknown source on row 7
    entries[5].cells[2] = "2025/13/40"     # an impossible date on row 9
    path = write_csv(tmp_path / "台账.csv", entries, "gb18030")
    before = (_count(runtime, Case), _count(runtime, CaseEvent), _count(runtime, AuditEntry))

    result = CliRunner().invoke(cli.app, ["cases", "import", str(path), "--dry-run"], obj=CliState(runtime))

    assert result.exit_code == 1, result.output
    assert (_count(runtime, Case), _count(runtime, CaseEvent), _count(runtime, AuditEntry)) == before == (0, 0, 0)
    assert not (tmp_path / "台账.errors.csv").exists(), "not even the error report"
    out = result.stdout
    assert "台账.csv: CSV, GBK, header on row 3, 20 data rows" in out
    for shown in ("登记时间", "received_at", "所属村（社区）", "village", "序号", "ignored", "12345热线",
                  "hotline_12345", "传真", "UNMAPPED", "劳资债务", "2025/13/40", "no such day",
                  "2025-03-05 to 2025-03-31", "would fail"):
        assert shown in out, shown
    for personal in ("张三", "13800138000", "220283198001011234", "平安镇平安村三组", "李四"):
        assert personal not in out, "personal data is never printed"

    shown = preview(runtime, path, words=county_words(WORDS), now=NOW)
    assert (shown.would_import, shown.rejected, shown.township_only) == (18, 2, 1)
    assert (shown.first_day, shown.last_day) == (date(2025, 3, 5), date(2025, 3, 31))
    assert {(v.text, v.code, v.rows) for v in shown.values["source"]} >= {("12345", "hotline_12345", 2),
                                                                          ("传真", None, 1)}
    assert shown.personal_columns == ("address", "party_id_number", "party_name", "party_phone")

    imported = _run(runtime, write_csv(tmp_path / "good.csv", march_ledger()[:4], "utf-8"))
    assert imported.imported == 4
    again = preview(runtime, path, words=county_words(WORDS), now=NOW)
    assert (again.already_stored, again.would_import) == (3, 15), "rows 1–3 of the file are stored now"


def test_the_import_names_the_encoding_and_the_ignored_columns_but_never_personal_data(
        runtime: Runtime, county: str, tmp_path: Path) -> None:
    words_file = tmp_path / "ledger_words.toml"
    words_file.write_text(WORDS, encoding="utf-8")
    path = write_csv(tmp_path / "台账.csv", march_ledger(), "gbk")
    result = CliRunner().invoke(cli.app, ["cases", "import", str(path), "--words", str(words_file)],
                                obj=CliState(runtime))
    assert result.exit_code == 0, result.output
    assert "台账.csv: CSV, GBK, header on row 3" in result.stderr
    assert "ignored columns: '序号', '备注'" in result.stderr
    assert "张三" not in result.output and "13800138000" not in result.output


def test_headers_found_below_titles_and_header_problems_refused(tmp_path: Path) -> None:
    words = builtin_words()
    path = tmp_path / "typo.csv"
    path.write_text("title\nexternal_ref,source,category,recieved_at,grid_code,status\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match=r"missing column\(s\) received_at \(did you mean 'recieved_at'\?\)"):
        read_ledger(path, words)

    twice = tmp_path / "twice.csv"
    twice.write_text("案件编号,登记时间,受理时间,来源,类别,状态,村\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match="'登记时间' and '受理时间' both give received_at"):
        read_ledger(twice, words)

    titles = tmp_path / "titles.csv"
    titles.write_text("\n".join(["舒兰市2025年矛盾纠纷台账"] * 25) + "\n案件编号,登记时间,来源\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match="no header row in the first 20 rows"):
        read_ledger(titles, words)

    no_place = tmp_path / "no_place.csv"
    no_place.write_text("案件编号,登记时间,来源,类别,状态\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match="needs the place"):
        read_ledger(no_place, words)

    rare = tmp_path / "rare.csv"
    rare.write_bytes("案件编号,登记时间,来源,类别,状态,乡镇,村,内容\n1,2025/3/5,12345,土地纠纷,已受理,平安镇,平安村,㐀\n"
                     .encode("gb18030"))
    ledger = read_ledger(rare, words)
    assert ledger.encoding == "GB18030" and ledger.rows[0].values["description"] == "㐀"
    with pytest.raises(UnicodeEncodeError):
        "㐀".encode("gbk")


def test_spreadsheet_rows_keep_their_numbers_below_the_titles(tmp_path: Path) -> None:
    ledger = read_ledger(write_xlsx(tmp_path / "l.xlsx", march_ledger()[:2]), builtin_words())
    assert (ledger.kind, ledger.header_row, [r.number for r in ledger.rows]) == ("XLSX", 3, [4, 5])
    assert ledger.rows[1].values["received_at"] == "2025-03-05 10:15:00"
    assert [c.field for c in ledger.columns if c.field][:3] == ["external_ref", "received_at", "source"]
    rows = list(csv.reader([",".join(HEADER)]))
    assert len(rows[0]) == len(ledger.columns)
