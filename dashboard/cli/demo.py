"""``demo``: a realistic history and a live feed for the demo county, written through the normal
write path, so the screens show them exactly as they would show real cases."""

from __future__ import annotations

from typing import Annotated

import typer

from dashboard.cases import demo
from dashboard.cli import progress
from dashboard.cli.context import runtime

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command("backfill")
def backfill(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="days of history, ending today")] = 365,
    seed: Annotated[int, typer.Option(help="the same seed draws the same cases")] = 20260101,
) -> None:
    """Write a realistic history; days already written are skipped."""
    rt = runtime(ctx)
    with progress.bar("backfill", unit="days") as report:
        written = demo.backfill(rt.cases, days=days, now=rt.clock(), seed=seed, progress=report)
    print(f"backfilled {written} cases")


@app.command("live")
def live(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option(help="changes per second on average")] = 1.0,
    limit: Annotated[int | None, typer.Option(help="stop after this many changes")] = None,
) -> None:
    """Keep adding cases and state changes."""
    rt = runtime(ctx)
    print(f"live feed: about {rate} changes per second (Ctrl-C stops)", flush=True)
    demo.live(rt.cases, rate=rate, limit=limit, clock=rt.clock)
