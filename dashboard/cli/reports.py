"""``reports``: written reports (日报 / 周报 / 月分析研判) on demand, and the scheduled run by hand.

    python -m dashboard reports make --kind weekly --period 2025-W23 [--area CODE] [--lang en] [--out DIR]
    python -m dashboard reports due        # what the schedule would generate now, generated

Every report made is archived as a new version and audited, and ``--out`` also writes the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.context import CLI_ROLE, actor, fail, runtime
from dashboard.domain.report_periods import ReportKind, ReportPeriodError, parse_period
from dashboard.reports import schedule, service
from dashboard.reports.content import UnknownAreaError

app = typer.Typer(help="Daily, weekly and monthly reports (DOCX and PDF).", no_args_is_help=True)


@app.command("make")
def make(
    ctx: typer.Context,
    kind: Annotated[ReportKind, typer.Option(help="daily, weekly or monthly")],
    period: Annotated[str, typer.Option(help="2025-06-02 (daily), 2025-W23 (weekly) or 2025-06 (monthly)")],
    area: Annotated[str | None, typer.Option(help="a township code (default: the whole county)")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    out: Annotated[Path | None, typer.Option(help="also write the DOCX and PDF into this folder")] = None,
) -> None:
    """Generate one report in both formats, archive it (a new version) and audit it."""
    if lang not in ("zh", "en"):
        fail("--lang is zh or en")
    try:
        span = parse_period(kind, period)
    except ReportPeriodError as error:
        fail(str(error))
    rt = runtime(ctx)
    try:
        made = service.make(rt, kind=kind, period=span, area=area, lang=lang, actor=actor(), role=CLI_ROLE)
    except (ValueError, UnknownAreaError) as error:
        fail(str(error))
    sizes = ", ".join(f"{fmt} {len(data) / 1024:.0f} KB (id {made.ids[fmt]})" for fmt, data in made.documents.items())
    print(f"{made.key.kind} {made.key.period} {made.key.area} {lang}: issue {made.issue}, version {made.version}; "
          f"{sizes}; {made.seconds['total']:.1f} s")
    if out is not None:
        for path in service.write_files(made, out):
            print(f"  wrote {path}")


@app.command("due")
def due(ctx: typer.Context) -> None:
    """Generate the scheduled reports that are due and not archived yet (what the server does itself)."""
    result = schedule.run_due(runtime(ctx))
    print(f"generated: {', '.join(result.made) or 'none'}" +
          (f"; left to another process: {', '.join(result.skipped_locked)}" if result.skipped_locked else ""))
