"""``warnings run`` (the early-warning job now, e.g. after a burst or from cron) and ``warnings list``,
for one served county (``--county``) or every served county."""

from __future__ import annotations

from typing import Annotated

import typer

from dashboard.cli.context import runtime
from dashboard.cli.counties import COUNTY_HELP, chosen_counties
from dashboard.warnings import job, service

app = typer.Typer(help="Early warnings (预警): run the baseline job, list the open warnings.", no_args_is_help=True)

CountyOption = Annotated[str | None, typer.Option("--county", help=COUNTY_HELP)]


@app.command("run")
def run(ctx: typer.Context, county: CountyOption = None) -> None:
    """One run now, whatever the interval (waits for a run under way); exit 1 when a county did not run."""
    rt = runtime(ctx)
    counties = chosen_counties(rt, county)
    reports = job.run_counties(rt, force=True, counties=counties)
    for code in counties:
        report = reports.get(code)
        prefix = f"county {code}: " if len(counties) > 1 else ""
        if report is None or not report.ran:
            print(f"{prefix}did not run" + ("" if report is not None else " (failed; see the log)"))
            continue
        alpha = f"{report.alpha:.2e}" if report.alpha is not None else "-"
        print(f"{prefix}open {report.open} · opened {report.opened} · cleared {report.cleared} · "
              f"tests {report.tests} · alpha {alpha} · {report.seconds:.2f} s")
    if any(code not in reports or not reports[code].ran for code in counties):
        raise typer.Exit(code=1)


@app.command("list")
def list_open(ctx: typer.Context, lang: str = typer.Option("zh", help="zh or en")) -> None:
    """The open warnings of the served county, least probable first."""
    for warning in service.current(runtime(ctx)):
        acked = f" [{warning.acknowledged_by}]" if warning.acknowledged_by else ""
        print(f"{warning.id}\t{warning.area_code}\t{warning.reason(lang)}{acked}")
