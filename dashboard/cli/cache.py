"""``cache``: the Redis aggregates the screens read, rebuilt from SQL or compared with it, for one
served county (``--county``) or every served county in turn (a city or province deployment)."""

from __future__ import annotations

from typing import Annotated

import typer

from dashboard.cases import cache_ops
from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, runtime
from dashboard.cli.counties import COUNTY_HELP, chosen_counties
from dashboard.runtime import Runtime
from data_access import aggregates, audit, cases

app = typer.Typer(help="Redis aggregates.", no_args_is_help=True)

SHOWN_DIFFERENCES = 50
"""Differences printed by ``reconcile`` per county; the count covers them all."""

CountyOption = Annotated[str | None, typer.Option("--county", help=COUNTY_HELP)]


def _rebuild_one(rt: Runtime, county: str, label: str) -> str:
    """Rebuild one county's aggregates with a progress bar named ``label``; the result line."""
    with rt.sessions() as session, progress.bar(label, unit="steps") as report:
        done = cache_ops.rebuild(session, rt.redis_admin, county, rt.rules, progress=report)
    with rt.sessions() as session, session.begin():
        audit.record(session, actor=actor(), role=CLI_ROLE, action="cache_rebuild", target=f"county:{county}",
                     detail={"cases": done.cases, "version": done.version})
    return (f"rebuilt {done.cases} cases ({done.open_cases} open, {done.days} days) "
            f"in {done.seconds:.2f} s; version {done.version}")


@app.command("rebuild")
def rebuild(ctx: typer.Context, county: CountyOption = None) -> None:
    """Recompute every aggregate from SQL, county by county; a county that fails is reported and
    the others still rebuilt (exit 1 if any failed)."""
    rt = runtime(ctx)
    counties = chosen_counties(rt, county)
    if len(counties) == 1:
        print(_rebuild_one(rt, counties[0], "rebuild"))
        return
    failed = []
    for i, code in enumerate(counties, start=1):
        try:
            print(f"county {code} ({i}/{len(counties)}): {_rebuild_one(rt, code, f'rebuild {code} ({i}/{len(counties)})')}",
                  flush=True)
        except Exception as error:  # noqa: BLE001 - one county's failure must not stop the others
            print(f"county {code} ({i}/{len(counties)}): FAILED: {error}", flush=True)
            failed.append(code)
    if failed:
        print(f"{len(failed)} of {len(counties)} counties failed: {', '.join(failed)}")
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile(ctx: typer.Context, county: CountyOption = None) -> None:
    """Compare Redis with SQL, county by county; exit 1 on any difference."""
    rt = runtime(ctx)
    counties = chosen_counties(rt, county)
    differing = 0
    for i, code in enumerate(counties, start=1):
        with rt.sessions() as session:
            diffs = cache_ops.reconcile(session, rt.redis, code, rt.rules)
            total = cases.count(session, code)
        for diff in diffs[:SHOWN_DIFFERENCES]:
            print(f"{code} {diff}" if len(counties) > 1 else diff)
        line = f"{len(diffs)} differences over {total} cases (aggregate version {aggregates.version(rt.redis, code)})"
        print(f"county {code} ({i}/{len(counties)}): {line}" if len(counties) > 1 else line, flush=True)
        differing += bool(diffs)
    if differing:
        if len(counties) > 1:
            print(f"{differing} of {len(counties)} counties differ")
        raise typer.Exit(1)
