"""``county``: a county's boundaries, townships, villages, generated grids and centres, imported
from an outline and two lists; re-importing updates in place, a bad file changes nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import typer

from dashboard.cli.context import CLI_ROLE, actor, runtime
from dashboard.imports import onboarding
from dashboard.runtime import NoCountyError, Runtime
from dashboard.settings import PROJECT_ROOT
from geo.generate import GeneratedCounty
from geo.sources import OTHER_KIND

app = typer.Typer(help="County boundaries and centres.", no_args_is_help=True)

DEMO_DIR = PROJECT_ROOT.parent / "shared" / "data" / "shulan"
"""The demo county (Shulan): outline, seat, townships and villages."""
DEMO_FILES = {"outline": DEMO_DIR / "shulan_220283_county_wgs84.geojson",
              "townships": DEMO_DIR / "shulan_220283_townships.csv",
              "villages": DEMO_DIR / "shulan_220283_villages.csv",
              "seat": DEMO_DIR / "shulan_220283_seat_wgs84.geojson"}

Datum = Literal["wgs84", "gcj02"]


@app.command("import")
def import_county(
    ctx: typer.Context,
    outline: Annotated[Path, typer.Option(help="GeoJSON/GeoPackage/Shapefile of the county outline",
                                          show_default=False)],
    townships: Annotated[Path, typer.Option(help="CSV: code,name[,type]", show_default=False)],
    villages: Annotated[Path, typer.Option(help="CSV: code,name,parent_code[,type]", show_default=False)],
    crs: Annotated[Datum, typer.Option(help="datum of the outline and seat files")] = "wgs84",
    seat: Annotated[Path | None, typer.Option(help="point file with the county government seat")] = None,
    name: Annotated[str | None, typer.Option(help="county name (default: the outline's 'name' property)")] = None,
    grids: Annotated[int | None, typer.Option(
        min=1, help="about how many grids to generate (default: 7.5 per village-level unit, "
                    "Shulan's real 1,860 for 248)", show_default=False)] = None,
) -> None:
    """Onboard a county from outline + township and village lists."""
    save_county(runtime(ctx), outline=outline, townships=townships, villages=villages, crs=crs, seat=seat,
                name=name, grids=grids)


@app.command("ensure-demo")
def ensure_demo(ctx: typer.Context) -> None:
    """Import the demo county (Shulan) if the database has none."""
    rt = runtime(ctx)
    try:
        rt.county_code()
    except NoCountyError:
        save_county(rt, crs="wgs84", name=None, grids=None, **DEMO_FILES)
        return
    print("a county is already imported")


def save_county(rt: Runtime, *, outline: Path, townships: Path, villages: Path, crs: str, seat: Path | None,
                name: str | None, grids: int | None) -> None:
    """Read, check and generate everything first, then store it in one audited transaction
    (``onboarding.onboard``, which ``city import`` runs for each of its counties too)."""
    done = onboarding.onboard(rt.sessions, outline=outline, townships=townships, villages=villages, crs=crs, seat=seat,
                              name=name, grids=grids, now=rt.clock(), actor=actor(), role=CLI_ROLE)
    print(summary(done))


def summary(done: onboarding.Onboarded) -> str:
    """What an onboarded county's operator reads: its counts, then its units by kind."""
    report = done.report
    return (f"county {report.county_code} {done.name}: {report.townships} townships, {report.villages} villages, "
            f"{report.grids} grids (generated), {report.centers} centres; {report.removed_grids} stale grids removed\n"
            + kinds_summary(done.generated))


def kinds_summary(generated: GeneratedCounty) -> str:
    """How many units of each kind were read, naming the `other` ones: a type the lists do not
    know is kept as `other`, never refused, so the operator sees here what became `other`."""
    lines = []
    for level, units in (("townships", generated.townships), ("villages", generated.villages)):
        counts = Counter(u.kind for u in units)
        text = ", ".join(f"{counts[k]} {k}" for k in sorted(counts))
        others = [u.name for u in units if u.kind == OTHER_KIND]
        shown = "、".join(others[:10]) + (f" … (+{len(others) - 10})" if len(others) > 10 else "")
        lines.append(f"{level} by kind: {text}" + (f"; other: {shown}" if others else ""))
    return "\n".join(lines)
