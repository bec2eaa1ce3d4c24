"""``scheduler tick``: one deadline pass now, for cron (the served app also runs one every minute),
after a drain of the aggregate outbox (the served app drains it every ``outbox_drain_seconds``)."""

from __future__ import annotations

import typer

from dashboard.cases import scheduler
from dashboard.cases.outbox_drain import IN_FLIGHT, drain_once
from dashboard.cli.context import runtime

app = typer.Typer(help="Deadlines: relevel alerts, supervise and escalate late cases.", no_args_is_help=True)


@app.command("tick")
def tick(ctx: typer.Context) -> None:
    """One pass now (for cron)."""
    rt = runtime(ctx)
    drained = drain_once(rt, older_than=IN_FLIGHT)  # what a dead writer still owed Redis
    if drained:
        print(f"outbox: applied {drained} owed row(s)")
    print(scheduler.tick(rt, now=rt.clock()))
