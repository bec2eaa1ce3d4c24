"""``city`` and ``province``: onboard the areas above the county, every county through the same
onboarding as ``county import`` (:mod:`dashboard.imports.region_import`).

Each county is its own transaction: a county whose files are wrong is reported, changes nothing,
and the others are imported all the same; the command then ends with exit code 2 so a script sees
it. Fix the files and run the same command again: what was imported is updated in place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from dashboard.cli import progress
from dashboard.cli.context import CLI_ROLE, actor, fail, runtime
from dashboard.cli.county import summary
from dashboard.imports import region_import
from dashboard.imports.region_import import CityReport, CountyOutcome, Writer
from dashboard.runtime import Runtime

city = typer.Typer(help="Cities (地级市): a city and its counties onboarded together.", no_args_is_help=True)
province = typer.Typer(help="Provinces: a province and its cities onboarded together.", no_args_is_help=True)

Datum = Literal["wgs84", "gcj02"]
ONE_TRANSACTION_EACH = ("each county is its own transaction: a refused county changed nothing, the others are "
                        "imported; fix its files and run the same command again")


def writer(rt: Runtime) -> Writer:
    """The command line writes as the console's user, stamped by the runtime's clock."""
    return Writer(sessions=rt.sessions, clock=rt.clock, actor=actor(), role=CLI_ROLE)


def grid_counts(values: list[str] | None) -> dict[str, int]:
    """``CODE=N`` values (repeated, or comma-separated in one) as a county → grid count map."""
    counts: dict[str, int] = {}
    for value in values or []:
        for item in filter(None, (part.strip() for part in value.split(","))):
            code, _, number = item.partition("=")
            if not code.strip().isdigit() or not number.strip().isdigit() or int(number) < 1:
                fail(f"--grids-per-county {item!r}: expected CODE=N with N a whole number of at least 1")
            counts[code.strip()] = int(number)
    return counts


def print_county(outcome: CountyOutcome) -> None:
    """One line (and the kinds summary) per county as it is done."""
    if outcome.error is not None:
        print(f"county {outcome.code} {outcome.name}: REFUSED, nothing of it was written: {outcome.error}", flush=True)
    elif outcome.kept:
        print(f"county {outcome.code} {outcome.name}: already imported, kept as it is", flush=True)
    elif outcome.onboarded is not None:
        print(f"{summary(outcome.onboarded)}\n  ({outcome.seconds:.1f} s)", flush=True)


def city_summary(report: CityReport) -> str:
    failed = report.failed
    line = (f"city {report.code} {report.name}: {len(report.imported)} of {len(report.counties)} counties imported "
            f"in {report.seconds:.1f} s")
    if failed:
        line += f"; refused: {', '.join(f'{c.code} {c.name}' for c in failed)} ({ONE_TRANSACTION_EACH})"
    return line


GridsOption = Annotated[list[str] | None, typer.Option(
    "--grids-per-county", metavar="CODE=N",
    help="a county's grid count (repeat, or comma-separate); the others follow their size", show_default=False)]
CrsOption = Annotated[Datum | None, typer.Option(
    help="datum of the outline (default: the _gcj02/_wgs84 ending of its file name, else wgs84); "
         "each county's datum is the one its file name ends with", show_default=False)]
NameOption = Annotated[str | None, typer.Option(help="name (default: the outline's 'name' property)",
                                                show_default=False)]


@city.command("import")
def import_city(
    ctx: typer.Context,
    outline: Annotated[Path, typer.Option(help="GeoJSON/GeoPackage/Shapefile of the city outline", show_default=False)],
    counties: Annotated[Path, typer.Option(help="directory: counties.csv and each county's outline and lists",
                                           show_default=False)],
    crs: CrsOption = None,
    name: NameOption = None,
    code: Annotated[str | None, typer.Option(help="city code (default: the outline's 'adcode' property)",
                                             show_default=False)] = None,
    grids_per_county: GridsOption = None,
) -> None:
    """Onboard a city and each of its counties (as `county import` does, one transaction each)."""
    rt = runtime(ctx)
    with progress.bar("city import", unit="counties") as report:
        done = region_import.import_city(writer(rt), outline=outline, directory=counties, crs=crs, code=code,
                                         name=name, grids=grid_counts(grids_per_county), progress=report,
                                         on_county=print_county)
    print(city_summary(done))
    if done.failed:
        raise typer.Exit(2)


@province.command("import")
def import_province(
    ctx: typer.Context,
    outline: Annotated[Path, typer.Option(help="GeoJSON/GeoPackage/Shapefile of the province outline",
                                          show_default=False)],
    cities: Annotated[Path, typer.Option(help="directory: cities.csv and one city directory per city code",
                                         show_default=False)],
    crs: CrsOption = None,
    name: NameOption = None,
    code: Annotated[str | None, typer.Option(help="province code (default: the outline's 'adcode' property)",
                                             show_default=False)] = None,
    grids_per_county: GridsOption = None,
) -> None:
    """Onboard a province and each of its cities (each through `city import`)."""
    rt = runtime(ctx)
    with progress.bar("province import", unit="counties") as report:
        def on_city(city_code: str, city_name: str) -> region_import.Progress:
            print(f"city {city_code} {city_name} …", flush=True)
            return report

        done = region_import.import_province(writer(rt), outline=outline, directory=cities, crs=crs, code=code,
                                             name=name, grids=grid_counts(grids_per_county), on_city=on_city,
                                             on_county=print_county)
    for outcome in done.cities:
        if outcome.report is not None:
            print(city_summary(outcome.report))
        else:
            print(f"city {outcome.code} {outcome.name}: REFUSED, nothing of it was written: {outcome.error}")
    print(f"province {done.code} {done.name}: {len(done.cities) - len(done.failed_cities)} of {len(done.cities)} "
          f"cities imported, {done.failed_counties} counties refused, in {done.seconds:.1f} s")
    if done.failed_cities or done.failed_counties:
        raise typer.Exit(2)
