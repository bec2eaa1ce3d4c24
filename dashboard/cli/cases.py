"""``cases import``: a CSV/XLSX case list (a county's ledger) imported in one audited transaction.

Exit codes, which scripts rely on: 0 imported; 1 rows rejected (report written; nothing written
unless ``--skip-bad``); 3 stored, but Redis did not take the figures (run ``cache rebuild``); 2 the
file itself cannot be read. ``--dry-run`` writes nothing (no case, no report file, no audit entry)
and shows how the file would be read: 0 every row would import, 1 some rows would fail.

The result line goes to stdout; what was read (format, detected encoding, header row, ignored
columns) to stderr. Personal data (names, phones, ID numbers, addresses) is never printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, runtime
from dashboard.imports import case_import
from data_access import audit

app = typer.Typer(help="Case lists.", no_args_is_help=True)


@app.command("import")
def import_cases(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="XLSX, or CSV in UTF-8/GBK/GB18030: Chinese headers (案件编号, 登记时间, 来源, 纠纷类型, 乡镇, 村 …) "
                                              "or external_ref, source, category, received_at, ...",
                                         show_default=False)],
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="import the good rows, skip the bad ones")] = False,
    report: Annotated[Path | None, typer.Option(
        help="row-error report (default: <name>.errors.csv next to FILE)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show how the file would import; write nothing")] = False,
    words: Annotated[Path | None, typer.Option(
        help="the county's own ledger words (TOML; default: MEDIATION_LEDGER_WORDS or var/ledger_words.toml)")] = None,
) -> None:
    """Import a CSV/XLSX case list or ledger (Chinese headers and values, title rows, GBK); all-or-nothing
    unless --skip-bad."""
    rt = runtime(ctx)
    target = f"file:{file.name}"
    ledger_words = case_import.load_words(rt.settings, words)
    if dry_run:
        with progress.bar("check", unit="rows") as advance:
            shown = case_import.preview(rt, file, words=ledger_words, progress=advance)
        show_preview(shown, _console())
        if shown.rejected:
            raise typer.Exit(1)
        return

    def record(session: Session, counts: dict[str, int]) -> None:
        audit.record(session, actor=actor(), role=CLI_ROLE, action="import", target=target,
                     detail={**counts, "skip_bad": skip_bad})

    try:
        with progress.bar("import", unit="rows") as advance:
            result = case_import.import_cases(rt, file, all_or_nothing=not skip_bad, report_path=report,
                                              progress=advance, audit=record, words=ledger_words)
    except case_import.CaseImportError as error:
        with rt.sessions() as session, session.begin():
            audit.record(session, actor=actor(), role=CLI_ROLE, action="import_failed", target=target,
                         detail={"error": str(error)[:500]})
        raise
    refused = result.rejected and not skip_bad
    if refused:
        with rt.sessions() as session, session.begin():
            audit.record(session, actor=actor(), role=CLI_ROLE, action="import_refused", target=target,
                         detail={"rows": result.rows, "rejected": result.rejected})
    if result.ledger is not None:
        print(f"read {result.ledger.describe()}", file=sys.stderr)
        if result.ledger.ignored:
            print("ignored columns: " + ", ".join(_ignored(c) for c in result.ledger.ignored), file=sys.stderr)
    print(f"{result.rows} rows: {result.imported} imported, {result.duplicates} already present, "
          f"{result.rejected} rejected ({result.seconds:.1f} s)")
    if result.report_path:
        print(f"row errors: {result.report_path}" + ("; nothing was written" if refused else ""), file=sys.stderr)
    if result.aggregates_behind:
        print("the cases are stored, but Redis did not take their figures: the screens miss them until "
              "`python -m dashboard cache rebuild`", file=sys.stderr)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


_SHOWN_ERRORS = 200
"""Failing rows listed by a dry run; the count of the rest is given."""
_SHOWN_VALUES = 60
"""Distinct values listed per field by a dry run (unmapped ones first); the rest are counted."""


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 140, highlight=False)


def _ignored(column: object) -> str:
    header, hint = getattr(column, "header"), getattr(column, "hint")
    return f"{header!r}" + (f" (did you mean {hint}?)" if hint else "")


def show_preview(shown: case_import.Preview, console: Console) -> None:
    """The dry run as rich tables: columns, values, failing rows, and a summary with the period.
    Every text from the file goes in as plain ``Text``, so no cell can carry console markup."""
    ledger = shown.ledger
    console.print(Text(f"dry run, nothing written: {ledger.describe()}"))

    columns = Table(title="Columns → fields", title_justify="left")
    for name in ("column", "header", "field"):
        columns.add_column(name)
    for column in ledger.columns:
        if column.field is None:
            said = "ignored" + (f" (did you mean {column.hint}?)" if column.hint else "")
        elif column.field in shown.personal_columns:
            said = f"{column.field} (personal data: stored with the case, never shown)"
        else:
            said = column.field
        columns.add_row(_letter(column.index), Text(column.header), Text(said))
    console.print(columns)

    values = Table(title="Values → codes", title_justify="left")
    for name, justify in (("field", "left"), ("value in the file", "left"), ("code", "left"), ("rows", "right")):
        values.add_column(name, justify=justify)  # type: ignore[arg-type]
    for field_name, counts in shown.values.items():
        # Unmapped values first, so a long tail of spellings never hides the ones that need a word.
        ordered = sorted(counts, key=lambda c: c.code is not None)
        for count in ordered[:_SHOWN_VALUES]:
            values.add_row(field_name, Text(count.text), Text(count.code or "UNMAPPED", style="" if count.code else "bold red"),
                           str(count.rows))
        if len(ordered) > _SHOWN_VALUES:
            rest = ordered[_SHOWN_VALUES:]
            values.add_row(field_name, Text(f"… {len(rest)} more distinct values"), "", str(sum(c.rows for c in rest)))
    console.print(values)
    unmapped = [(f, c) for f, counts in shown.values.items() for c in counts if c.code is None]
    if unmapped:
        console.print(Text("unmapped: " + ", ".join(f"{f} {c.text!r} ({c.rows} rows)" for f, c in unmapped)
                           + " — add them to the county's words file (--words)"))

    if shown.errors:
        failing = Table(title=f"Rows that would fail ({shown.rejected})", title_justify="left")
        for name in ("row", "column", "value", "reason"):
            failing.add_column(name, overflow="fold")
        for error in shown.errors[:_SHOWN_ERRORS]:
            failing.add_row(str(error.row), Text(error.column), Text(error.value), Text(error.message))
        console.print(failing)
        if len(shown.errors) > _SHOWN_ERRORS:
            console.print(Text(f"… and {len(shown.errors) - _SHOWN_ERRORS} more errors"))

    period = (f"{shown.first_day.isoformat()} to {shown.last_day.isoformat()}" if shown.first_day and shown.last_day
              else "no readable receipt time")
    summary = Table(title="Summary", title_justify="left", show_header=False)
    summary.add_column("what")
    summary.add_column("n", justify="right")
    summary.add_row("data rows", str(len(ledger.rows)))
    summary.add_row("would import", str(shown.would_import))
    summary.add_row("already stored (skipped)", str(shown.already_stored))
    summary.add_row("would fail", str(shown.rejected))
    summary.add_row("placed by township alone (at its centre)", str(shown.township_only))
    summary.add_row("period covered (received, Asia/Shanghai)", period)
    console.print(summary)
    if shown.rejected:
        console.print(Text("all-or-nothing: as it stands the import would write nothing; --skip-bad imports the "
                           "good rows"))


def _letter(index: int) -> str:
    """A 0-based column index as a spreadsheet column letter (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
