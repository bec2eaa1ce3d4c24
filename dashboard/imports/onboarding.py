"""Onboard a county from three files: outline, township list, village list.

Everything is read and generated before the first write, and the writes run in the caller's
transaction, so a bad file changes nothing. Re-running updates rows in place by code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shapely import to_geojson
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.domain.vocabulary import Residency, Tier
from data_access import areas, audit
from data_access.models import Case, Center, County, Department, Grid, Township, Village
from geo import sources
from geo.errors import CountyInputError
from geo.generate import GeneratedCounty, generate_county

COUNTY_DEPARTMENTS: tuple[tuple[str, Residency], ...] = (
    ("信访局", Residency.resident),
    ("人民法院", Residency.resident),
    ("公安局", Residency.resident),
    ("司法局", Residency.resident),
    ("人力资源和社会保障局", Residency.resident),
    ("自然资源局", Residency.rotating),
    ("住房和城乡建设局", Residency.rotating),
    ("农业农村局", Residency.rotating),
    ("卫生健康局", Residency.rotating),
    ("市场监督管理局", Residency.rotating),
    ("妇女联合会", Residency.on_call),
    ("总工会", Residency.on_call),
)
"""Twelve units stationed in the county centre, as in the demo county."""

TOWNSHIP_DEPARTMENTS: tuple[tuple[str, Residency], ...] = (
    ("综治办", Residency.resident),
    ("司法所", Residency.resident),
    ("派出所", Residency.rotating),
    ("人民法庭", Residency.on_call),
)


@dataclass(frozen=True)
class ImportReport:
    county_code: str
    townships: int
    villages: int
    grids: int
    centers: int
    removed_grids: int


def load_county_files(
    *, outline: Path, townships: Path, villages: Path, crs: str = "wgs84", seat: Path | None = None,
    grid_target: int | None = None,
) -> GeneratedCounty:
    """Read and generate; no database involved, so errors here cannot leave a trace. Without a
    `grid_target` the grid count follows the county's size (`geo.generate.grid_target_for`)."""
    outline_shape = sources.read_outline(outline, crs=crs)
    township_rows = sources.read_townships(townships)
    village_rows = sources.read_villages(villages, township_rows)
    seat_point = sources.read_seat(seat, crs=crs) if seat else None
    try:
        return generate_county(outline_shape, township_rows, village_rows, seat=seat_point, grid_target=grid_target)
    except CountyInputError:
        raise
    except ValueError as error:  # e.g. a seat outside the outline: the files disagree
        raise CountyInputError(f"cannot generate areas from {outline}, {townships}, {villages}: {error}") from None


@dataclass(frozen=True)
class Onboarded:
    """What one county's onboarding stored: the counts, the name it was stored under, and the
    generated areas (their kinds are what the operator checks in the summary)."""

    report: ImportReport
    name: str
    generated: GeneratedCounty


def onboard(
    sessions: sessionmaker[Session], *, outline: Path, townships: Path, villages: Path, crs: str = "wgs84",
    seat: Path | None = None, name: str | None = None, grids: int | None = None, now: datetime, actor: str,
    role: str, check: Callable[[GeneratedCounty], None] | None = None,
) -> Onboarded:
    """One county from its files, the whole of ``county import``: read, check and generate
    everything first, then store it in one audited transaction of its own, so a bad file changes
    nothing. ``name`` defaults to the outline's ``name`` property, then the code; ``grids`` to the
    county's size (:func:`load_county_files`). ``check`` may refuse the generated county (raise
    ``CountyInputError``) before anything is written, as a city import does for a county whose
    code lies outside the city."""
    generated = load_county_files(outline=outline, townships=townships, villages=villages, crs=crs, seat=seat,
                                  grid_target=grids)
    if check is not None:
        check(generated)
    outline_shape = sources.read_outline(outline, crs=crs)
    county_name = name or sources.read_outline_name(outline) or county_code_of(generated)
    with sessions() as session, session.begin():
        report = save_county(session, generated, name=county_name, now=now, outline_geojson=to_geojson(outline_shape))
        audit.record(session, actor=actor, role=role, action="county_import", target=f"county:{report.county_code}",
                     detail={"name": county_name, "outline": outline.name, "townships": report.townships,
                             "villages": report.villages, "grids": report.grids, "centers": report.centers,
                             "removed_grids": report.removed_grids, "crs": crs})
    return Onboarded(report, county_name, generated)


def county_code_of(generated: GeneratedCounty) -> str:
    codes = {t.code[:6] for t in generated.townships}
    if len(codes) != 1:
        raise CountyInputError(f"township codes belong to several counties: {sorted(codes)}")
    return codes.pop()


def save_county(session: Session, generated: GeneratedCounty, *, name: str, now: datetime, outline_geojson: str) -> ImportReport:
    """Upsert the county, its areas, grids, centres and departments in the caller's transaction."""
    code = county_code_of(generated)
    areas.upsert(session, County, [dict(code=code, name=name, outline=outline_geojson, seat_lon=generated.seat.x,
                                        seat_lat=generated.seat.y, imported_at=now)], key="code")
    areas.upsert(session, Township, [
        dict(code=t.code, county_code=code, name=t.name, kind=t.kind, geometry=to_geojson(t.geometry), generated=True)
        for t in generated.townships], key="code")
    areas.upsert(session, Village, [
        dict(code=v.code, township_code=v.parent_code, name=v.name, kind=v.kind, geometry=to_geojson(v.geometry), generated=True)
        for v in generated.villages], key="code")
    grid_codes = {g.code for g in generated.grids}
    areas.upsert(session, Grid, [
        dict(code=g.code, village_code=g.parent_code, name=g.name, geometry=to_geojson(g.geometry), generated=True)
        for g in generated.grids], key="code")
    removed = _remove_stale_grids(session, code, grid_codes)

    center_rows = [dict(area_code=code, county_code=code, tier=Tier.county.value, name=f"{name}矛盾纠纷调处化解中心",
                        lon=generated.seat.x, lat=generated.seat.y)]
    center_rows += [dict(area_code=t.code, county_code=code, tier=Tier.township.value, name=f"{t.name}矛调中心",
                         lon=t.center.x, lat=t.center.y) for t in generated.townships]
    center_rows += [dict(area_code=v.code, county_code=code, tier=Tier.village.value, name=f"{v.name}调解室",
                         lon=v.center.x, lat=v.center.y) for v in generated.villages]
    areas.upsert(session, Center, center_rows, key="area_code")
    _station_departments(session, code)
    return ImportReport(code, len(generated.townships), len(generated.villages), len(generated.grids),
                        len(center_rows), removed)


def _remove_stale_grids(session: Session, county: str, keep: set[str]) -> int:
    """Grids a re-import no longer generates go, unless cases point at them."""
    current = set(areas.grid_places(session, county))
    stale = current - keep
    if not stale:
        return 0
    used = session.scalar(select(func.count(Case.id)).where(Case.grid_code.in_(stale))) or 0
    if used:
        raise CountyInputError(
            f"re-import would remove {len(stale)} grids that {used} cases refer to; keep the same grid count"
        )
    session.execute(delete(Grid).where(Grid.code.in_(stale)))
    return len(stale)


def _station_departments(session: Session, county: str) -> None:
    rows = []
    for center in areas.centers(session, county):
        roster = COUNTY_DEPARTMENTS if center.tier == Tier.county.value else (
            TOWNSHIP_DEPARTMENTS if center.tier == Tier.township.value else ())
        rows += [dict(center_id=center.id, name=dept, residency=res.value) for dept, res in roster]
    existing = {(c, n) for c, n in session.execute(select(Department.center_id, Department.name))}
    session.add_all(Department(**r) for r in rows if (r["center_id"], r["name"]) not in existing)
    session.flush()
