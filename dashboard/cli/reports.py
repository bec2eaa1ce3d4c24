"""``reports``: written reports (日报 / 周报 / 月分析研判) on demand, and the scheduled run by hand.

    python -m dashboard reports make --kind weekly --period 2025-W23 [--county CODE] [--area CODE] [--lang en] [--out DIR]
    python -m dashboard reports due [--county CODE]   # what the schedule would generate now, generated

Every report made is archived as a new version and audited, and ``--out`` also writes the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboard.cli.context import CLI_ROLE, actor, fail, runtime
from dashboard.cli.counties import COUNTY_HELP, chosen_counties
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
    county: Annotated[str | None, typer.Option(
        "--county", help="a served county (default: the county of --area, else the default county)")] = None,
) -> None:
    """Generate one report in both formats, archive it (a new version) and audit it."""
    if lang not in ("zh", "en"):
        fail("--lang is zh or en")
    try:
        span = parse_period(kind, period)
    except ReportPeriodError as error:
        fail(str(error))
    rt = runtime(ctx)
    served = rt.served_counties()
    if county is not None and county not in served:
        fail(f"--county {county!r} is not a county served here")
    if county is None and area is not None and area[:6] in served:
        county = area[:6]  # a township's code starts with its county's
    try:
        made = service.make(rt, kind=kind, period=span, area=area, lang=lang, actor=actor(), role=CLI_ROLE,
                            county=county)
    except (ValueError, UnknownAreaError) as error:
        fail(str(error))
    sizes = ", ".join(f"{fmt} {len(data) / 1024:.0f} KB (id {made.ids[fmt]})" for fmt, data in made.documents.items())
    print(f"{made.key.kind} {made.key.period} {made.key.area} {lang}: issue {made.issue}, version {made.version}; "
          f"{sizes}; {made.seconds['total']:.1f} s")
    if out is not None:
        for path in service.write_files(made, out):
            print(f"  wrote {path}")


@app.command("due")
def due(ctx: typer.Context, county: Annotated[str | None, typer.Option("--county", help=COUNTY_HELP)] = None) -> None:
    """Generate the scheduled reports that are due and not archived yet (what the server does itself),
    for every served county unless ``--county`` names some; exit 1 when a county's pass failed."""
    rt = runtime(ctx)
    counties = chosen_counties(rt, county)
    result = schedule.run_due(rt, counties=counties)
    print(f"generated: {', '.join(result.made) or 'none'}" +
          (f"; left to another process: {', '.join(result.skipped_locked)}" if result.skipped_locked else ""))
    if result.failed:
        print(f"failed: {', '.join(result.failed)}")
        raise typer.Exit(1)

