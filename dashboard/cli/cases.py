"""``cases import``: a CSV/XLSX case list imported in one audited transaction.

Exit codes, which scripts rely on: 0 imported; 1 rows rejected (report written; nothing written
unless ``--skip-bad``); 3 stored, but Redis did not take the figures (run ``cache rebuild``); 2 the
file itself cannot be read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, runtime
from dashboard.imports import case_import
from data_access import audit

app = typer.Typer(help="Case lists.", no_args_is_help=True)


@app.command("import")
def import_cases(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8) or XLSX: external_ref, source, category, received_at, ...",
                                         show_default=False)],
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="import the good rows, skip the bad ones")] = False,
    report: Annotated[Path | None, typer.Option(
        help="row-error report (default: <name>.errors.csv next to FILE)")] = None,
) -> None:
    """Import a CSV/XLSX case list; all-or-nothing unless --skip-bad."""
    rt = runtime(ctx)
    target = f"file:{file.name}"

    def record(session: Session, counts: dict[str, int]) -> None:
        audit.record(session, actor=actor(), role=CLI_ROLE, action="import", target=target,
                     detail={**counts, "skip_bad": skip_bad})

    try:
        with progress.bar("import", unit="rows") as advance:
            result = case_import.import_cases(rt, file, all_or_nothing=not skip_bad, report_path=report,
                                              progress=advance, audit=record)
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
    print(f"{result.rows} rows: {result.imported} imported, {result.duplicates} already present, "
          f"{result.rejected} rejected ({result.seconds:.1f} s)")
    if result.report_path:
        print(f"row errors: {result.report_path}" + ("; nothing was written" if refused else ""), file=sys.stderr)
    if result.aggregates_behind:
        print("the cases are stored, but Redis did not take their figures: the screens miss them until "
              "`python -m dashboard cache rebuild`", file=sys.stderr)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
