"""``scheduler tick``: one deadline pass now, for cron (the served app also runs one every minute),
after a drain of the aggregate outbox (the served app drains it every ``outbox_drain_seconds``);
for one served county (``--county``) or every served county in turn."""

from __future__ import annotations

from typing import Annotated

import typer

from dashboard.cases import scheduler
from dashboard.cases.outbox_drain import IN_FLIGHT, drain_counties
from dashboard.cli.context import runtime
from dashboard.cli.counties import COUNTY_HELP, chosen_counties

app = typer.Typer(help="Deadlines: relevel alerts, supervise and escalate late cases.", no_args_is_help=True)


@app.command("tick")
def tick(ctx: typer.Context,
         county: Annotated[str | None, typer.Option("--county", help=COUNTY_HELP)] = None) -> None:
    """One pass now (for cron); a county whose pass fails is reported, the others still tick (exit 1)."""
    rt = runtime(ctx)
    counties = chosen_counties(rt, county)
    several = len(counties) > 1
    drained = drain_counties(rt, older_than=IN_FLIGHT, counties=counties)  # what a dead writer still owed Redis
    for code, settled in drained.items():
        if settled:
            print(f"county {code}: outbox: applied {settled} owed row(s)" if several
                  else f"outbox: applied {settled} owed row(s)")
    runs = scheduler.tick_counties(rt, now=rt.clock(), counties=counties)
    for code, report in runs.done.items():
        print(f"county {code}: {report}" if several else report)
    for code, error in runs.failed.items():
        print(f"county {code}: FAILED: {error}")
    if runs.failed:
        raise typer.Exit(1)
