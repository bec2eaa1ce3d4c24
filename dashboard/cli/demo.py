"""``demo``: a realistic history and a live feed for the demo county, written through the normal
write path, so the screens show them exactly as they would show real cases; and the demo's growth
to its city (吉林市), whose other counties get generated histories of their own size."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from dashboard.cases import cache_ops, demo, demo_growth
from dashboard.cases.case_service import CaseService
from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, fail, runtime
from dashboard.cli.region import GridsOption, city_summary, grid_counts, writer
from dashboard.imports import region_import
from dashboard.imports.region_import import CountyOutcome
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT
from data_access import areas, audit
from geo import sources

app = typer.Typer(help="Demo data.", no_args_is_help=True)

DEMO_CITY_DIR = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"
"""The demo county's city (吉林市): its outline, and its nine counties' outlines and lists."""
GROWTH_WRITE_EVERY_DAYS = 10
"""How often (in days backfilled) the growth record is rewritten during a county's backfill."""


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
    rate: Annotated[float, typer.Option(help="changes per second on average in the demo county; every other "
                                             "served county gets this times its size against it")] = 1.0,
    limit: Annotated[int | None, typer.Option(help="stop after this many changes")] = None,
    all_counties: Annotated[bool, typer.Option(help="feed every served county (a county onboarded meanwhile "
                                                    "joins within a minute), or the demo county only")] = True,
) -> None:
    """Keep adding cases and state changes."""
    rt = runtime(ctx)
    print(f"live feed: about {rate} changes per second in the demo county"
          + (", the other served counties by their size" if all_counties else "") + " (Ctrl-C stops)", flush=True)
    if all_counties:
        demo.live_counties(lambda: fed_counties(rt), rate=rate, limit=limit, clock=rt.clock)
    else:
        demo.live(rt.cases, rate=rate, limit=limit, clock=rt.clock)


def fed_counties(rt: Runtime) -> list[tuple[CaseService, float]]:
    """Every served county's write path with its weight: its villages against the default county's."""
    default = rt.county_code()
    with rt.sessions() as session:
        villages = {code: areas.count_rows(session, code)["villages"] for code in rt.served_counties()}
    base = villages.get(default) or demo.DEMO_VILLAGES
    return [(rt.case_service(code), count / base) for code, count in villages.items() if count > 0]


@app.command("grow-city")
def grow_city(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="the city's directory (as for `city import`)")] = DEMO_CITY_DIR,
    days: Annotated[int, typer.Option(help="days of history for each other county, ending today")] = 365,
    seed: Annotated[int, typer.Option(help="the same seed draws the same cases")] = 20260101,
    grids_per_county: GridsOption = None,
) -> None:
    """Grow the demo to its city: onboard the city's other counties one at a time, each followed by
    a history of its own size and its aggregates, so the screens show it as soon as it is done.

    Counties already imported (the demo county with its detailed history first) are kept as they
    are and their missing days filled in, so a run that was stopped continues where it was."""
    rt = runtime(ctx)
    outlines = sorted(directory.glob("city_*.geojson"))
    if len(outlines) != 1:
        fail(f"{directory}: expected one city outline city_<code>_<datum>.geojson, found {len(outlines)}")
    entries = region_import.read_county_list(directory)
    default = rt.county_code()
    started = time.monotonic()
    city = region_import.city_code_of(outlines[0], entries, None)
    growth = demo_growth.Growth(city=city, name=sources.read_outline_name(outlines[0]) or city,
                                counties_total=len(entries))

    def note(**changes: object) -> None:
        for key, value in changes.items():
            setattr(growth, key, value)
        growth.seconds = round(time.monotonic() - started, 1)
        demo_growth.write(rt.settings.var_dir, growth)

    def on_county(outcome: CountyOutcome) -> None:
        if outcome.error is not None:
            print(f"grow: county {outcome.code} {outcome.name} REFUSED (nothing written): {outcome.error}", flush=True)
            growth.failed.append(outcome.code)
        elif outcome.code != default:
            grow_county(rt, outcome, days=days, seed=seed, growth=growth, note=note)
        note(counties_done=growth.counties_done + 1, current=None, step=None)
        print(f"grow: {growth.counties_done} of {growth.counties_total} counties ready "
              f"({growth.cases_written} cases written, {growth.seconds:.0f} s)", flush=True)

    def on_start(done: int, total: int) -> None:
        if done < total:
            upcoming = entries[done]
            note(current=upcoming.code, step="import", days_done=0, days_total=0)
            print(f"grow: county {upcoming.code} {upcoming.name} ({done + 1} of {total}) …", flush=True)

    note()
    report = region_import.import_city(writer(rt), outline=outlines[0], directory=directory,
                                       keep_existing={e.code for e in entries}, grids=grid_counts(grids_per_county),
                                       progress=on_start, on_county=on_county)
    note(city=report.code, name=report.name, finished=True, current=None, step=None)
    print(f"grow: {city_summary(report)}; the city's history written: {growth.cases_written} cases in "
          f"{growth.seconds:.0f} s", flush=True)
    if report.failed:
        raise typer.Exit(2)


def grow_county(rt: Runtime, outcome: CountyOutcome, *, days: int, seed: int, growth: demo_growth.Growth,
                note: Callable[..., None]) -> None:
    """One other county of the city: its history of its own size (missing days only), then its
    aggregates rebuilt from SQL, audited as `cache rebuild` is."""
    code = outcome.code
    with rt.sessions() as session:
        villages = areas.count_rows(session, code)["villages"]
    stream = demo.HistoryStream.of_county(code, villages)
    began = time.monotonic()
    note(current=code, step="backfill", days_done=0, days_total=days)

    def told(done: int, total: int) -> None:
        if done % GROWTH_WRITE_EVERY_DAYS == 0 or done == total:
            note(days_done=done, days_total=total)

    written = demo.backfill(rt.case_service(code), days=days, now=rt.clock(), seed=seed, stream=stream, progress=told)
    note(step="rebuild", cases_written=growth.cases_written + written)
    with rt.sessions() as session:
        rebuilt = cache_ops.rebuild(session, rt.redis_admin, code, rt.rules)
    with rt.sessions() as session, session.begin():
        audit.record(session, actor=actor(), role=CLI_ROLE, action="cache_rebuild", target=f"county:{code}",
                     detail={"cases": rebuilt.cases, "version": rebuilt.version})
    state = "kept" if outcome.kept else f"imported in {outcome.seconds:.0f} s"
    print(f"grow: county {code} {outcome.name} {state}; {written} cases backfilled ({stream.scale:.2f} × the demo "
          f"county) in {time.monotonic() - began:.0f} s; {rebuilt.cases} cases in its aggregates", flush=True)
