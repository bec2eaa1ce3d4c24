"""``cache``: the Redis aggregates the screens read, rebuilt from SQL or compared with it."""

from __future__ import annotations

import typer

from dashboard.cases import cache_ops
from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, runtime
from data_access import aggregates, audit, cases

app = typer.Typer(help="Redis aggregates.", no_args_is_help=True)

SHOWN_DIFFERENCES = 50
"""Differences printed by ``reconcile``; the count covers them all."""


@app.command("rebuild")
def rebuild(ctx: typer.Context) -> None:
    """Recompute every aggregate from SQL."""
    rt = runtime(ctx)
    county = rt.county_code()
    with rt.sessions() as session, progress.bar("rebuild", unit="steps") as report:
        done = cache_ops.rebuild(session, rt.redis_admin, county, rt.rules, progress=report)
    with rt.sessions() as session, session.begin():
        audit.record(session, actor=actor(), role=CLI_ROLE, action="cache_rebuild", target=f"county:{county}",
                     detail={"cases": done.cases, "version": done.version})
    print(f"rebuilt {done.cases} cases ({done.open_cases} open, {done.days} days) "
          f"in {done.seconds:.2f} s; version {done.version}")


@app.command("reconcile")
def reconcile(ctx: typer.Context) -> None:
    """Compare Redis with SQL; exit 1 on any difference."""
    rt = runtime(ctx)
    county = rt.county_code()
    with rt.sessions() as session:
        diffs = cache_ops.reconcile(session, rt.redis, county, rt.rules)
        total = cases.count(session, county)
    for diff in diffs[:SHOWN_DIFFERENCES]:
        print(diff)
    print(f"{len(diffs)} differences over {total} cases (aggregate version {aggregates.version(rt.redis, county)})")
    if diffs:
        raise typer.Exit(1)
