"""``warnings run`` (the early-warning job now, e.g. after a burst or from cron) and ``warnings list``."""

from __future__ import annotations

import typer

from dashboard.cli.context import runtime
from dashboard.warnings import job, service

app = typer.Typer(help="Early warnings (预警): run the baseline job, list the open warnings.", no_args_is_help=True)


@app.command("run")
def run(ctx: typer.Context) -> None:
    """One run now, whatever the interval (waits for a run under way)."""
    report = job.run(runtime(ctx), force=True)
    if not report.ran:
        raise typer.Exit(code=1)
    print(f"open {report.open} · opened {report.opened} · cleared {report.cleared} · "
          f"tests {report.tests} · alpha {report.alpha:.2e} · {report.seconds:.2f} s")


@app.command("list")
def list_open(ctx: typer.Context, lang: str = typer.Option("zh", help="zh or en")) -> None:
    """The open warnings of the served county, least probable first."""
    for warning in service.current(runtime(ctx)):
        acked = f" [{warning.acknowledged_by}]" if warning.acknowledged_by else ""
        print(f"{warning.id}\t{warning.area_code}\t{warning.reason(lang)}{acked}")
