"""``scheduler tick``: one deadline pass now, for cron (the served app also runs one every minute)."""

from __future__ import annotations

import typer

from dashboard.cases import scheduler
from dashboard.cli.context import runtime

app = typer.Typer(help="Deadlines: relevel alerts, supervise and escalate late cases.", no_args_is_help=True)


@app.command("tick")
def tick(ctx: typer.Context) -> None:
    """One pass now (for cron)."""
    rt = runtime(ctx)
    print(scheduler.tick(rt, now=rt.clock()))
