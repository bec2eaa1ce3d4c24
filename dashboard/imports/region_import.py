"""Onboard the areas above the county: a city (地级市) from its counties' files, a province from its
cities' directories.

A city directory holds ``counties.csv`` (``code,name[,parent_code,townships,villages]``) and, for
each county, ``<code>_county_<datum>.geojson`` (datum ``gcj02`` or ``wgs84``, named in the file
name; ``<code>_county.geojson`` takes the command's datum), ``<code>_townships.csv`` and
``<code>_villages.csv``. A province directory holds ``cities.csv`` (``code,name``) and one such city
directory per city code, with the city's outline as ``city_<code>_<datum>.geojson``.

Every county goes through exactly the onboarding of ``county import``
(:func:`dashboard.imports.onboarding.onboard`): read, check and generate first, then one audited
transaction of its own. So a county whose files are wrong (missing, a code outside the city,
counts that disagree with the list) is reported and changes nothing, and the counties before and
after it are imported all the same; re-running the import updates in place. Errors that concern
the whole city or province (its outline, its list, an option naming a county not in the list) are
raised before anything is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shapely import to_geojson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.domain.area_scope import ScopeLevel, contains, level_of
from dashboard.imports import onboarding
from data_access import areas, audit
from data_access.models import County, Region
from geo import sources
from geo.crs import SOURCE_CRSES
from geo.errors import CountyInputError

COUNTY_LIST = "counties.csv"
CITY_LIST = "cities.csv"
DEFAULT_DATUM = "wgs84"
_DATUM_IN_NAME = re.compile(r"_(gcj02|wgs84)$", re.IGNORECASE)

Progress = Callable[[int, int], None]
"""Told ``(done, total)``: 0 first, then after each county (or city)."""


@dataclass(frozen=True)
class CountyEntry:
    """One row of a city's ``counties.csv``; the counts, when given, are checked against the lists."""

    code: str
    name: str
    line: int
    parent_code: str | None = None
    townships: int | None = None
    villages: int | None = None


@dataclass(frozen=True)
class CountyFiles:
    outline: Path
    crs: str
    townships: Path
    villages: Path


@dataclass(frozen=True)
class CountyOutcome:
    """How one county of a city import went: onboarded, kept as it was, or refused (``error``: then
    nothing of it was written)."""

    code: str
    name: str
    seconds: float
    onboarded: onboarding.Onboarded | None = None
    kept: bool = False
    error: str | None = None


@dataclass(frozen=True)
class CityReport:
    code: str
    name: str
    counties: list[CountyOutcome]
    seconds: float

    @property
    def failed(self) -> list[CountyOutcome]:
        return [c for c in self.counties if c.error is not None]

    @property
    def imported(self) -> list[CountyOutcome]:
        return [c for c in self.counties if c.onboarded is not None]


@dataclass(frozen=True)
class CityOutcome:
    """One city of a province import: its report, or why it was refused as a whole."""

    code: str
    name: str
    report: CityReport | None = None
    error: str | None = None


@dataclass(frozen=True)
class ProvinceReport:
    code: str
    name: str
    cities: list[CityOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed_counties(self) -> int:
        return sum(len(c.report.failed) for c in self.cities if c.report is not None)

    @property
    def failed_cities(self) -> list[CityOutcome]:
        return [c for c in self.cities if c.error is not None]


@dataclass(frozen=True)
class Writer:
    """Where and as whom an import writes: the session factory, the clock stamping each county and
    region, and the actor and role the audit log names."""

    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    actor: str
    role: str


def datum_of(path: Path, given: str | None) -> str:
    """The datum of an outline: ``given``, else the one its file name ends with (``…_gcj02``,
    ``…_wgs84``), else WGS84."""
    if given is not None:
        if given not in SOURCE_CRSES:
            raise CountyInputError(f"unknown crs {given!r}; use one of {', '.join(SOURCE_CRSES)}")
        return given
    found = _DATUM_IN_NAME.search(path.stem)
    return found.group(1).lower() if found else DEFAULT_DATUM


def read_county_list(directory: Path) -> list[CountyEntry]:
    """The counties of a city directory's ``counties.csv``, in file order; a duplicated or empty
    code, or a count that is not a whole number, is an error naming the line."""
    path = directory / COUNTY_LIST
    if not directory.is_dir():
        raise CountyInputError(f"{directory}: not a directory")
    entries: list[CountyEntry] = []
    seen: dict[str, int] = {}
    for line, cells in sources.read_table(path, required=("code", "name")):
        code, name = cells["code"], cells["name"]
        if not code or not name:
            raise CountyInputError(f"{path}, line {line}: the code and the name must both be given")
        if code in seen:
            raise CountyInputError(f"{path}, line {line}: county {code} is already listed on line {seen[code]}")
        seen[code] = line
        entries.append(CountyEntry(code=code, name=name, line=line, parent_code=cells.get("parent_code") or None,
                                   townships=_count(path, line, cells, "townships"),
                                   villages=_count(path, line, cells, "villages")))
    return entries


def _count(path: Path, line: int, cells: Mapping[str, str], column: str) -> int | None:
    value = cells.get(column, "")
    if not value:
        return None
    if not value.isdigit():
        raise CountyInputError(f"{path}, line {line}, column {column}: {value!r} is not a whole number")
    return int(value)


def county_files(directory: Path, code: str, crs: str | None) -> CountyFiles:
    """The three files of county ``code`` in a city directory; one missing is an error naming it."""
    outlines = [p for p in (directory / f"{code}_county_{d}.geojson" for d in SOURCE_CRSES) if p.is_file()]
    plain = directory / f"{code}_county.geojson"
    if plain.is_file():
        outlines.append(plain)
    if not outlines:
        expected = ", ".join(f"{code}_county_{d}.geojson" for d in SOURCE_CRSES)
        raise CountyInputError(f"{directory}: no outline of county {code} (expected {expected} or {code}_county.geojson)")
    if len(outlines) > 1:
        raise CountyInputError(f"{directory}: several outlines of county {code} ({', '.join(p.name for p in outlines)}); keep one")
    outline = outlines[0]
    files = CountyFiles(outline=outline, crs=datum_of(outline, None if outline != plain else crs),
                        townships=directory / f"{code}_townships.csv", villages=directory / f"{code}_villages.csv")
    for path in (files.townships, files.villages):
        if not path.is_file():
            raise CountyInputError(f"{path}: the file does not exist")
    return files


def check_code(entry: CountyEntry, city: str) -> None:
    """The listed code is a county's and lies inside the city, and its listed parent is the city."""
    if level_of(entry.code) is not ScopeLevel.county or not contains(city, entry.code):
        raise CountyInputError(f"{COUNTY_LIST}, line {entry.line}: {entry.code} is not a county code inside city {city}")
    if entry.parent_code is not None and entry.parent_code != city:
        raise CountyInputError(f"{COUNTY_LIST}, line {entry.line}: county {entry.code} names parent "
                               f"{entry.parent_code}, not city {city}")


def check_county(entry: CountyEntry, files: CountyFiles) -> None:
    """What a city knows about its county beyond ``county import``'s own checks: the township and
    village lists hold the counts ``counties.csv`` gives, and every township code is the county's."""
    townships = sources.read_townships(files.townships)
    villages = sources.read_villages(files.villages, townships)
    foreign = sorted(t.code for t in townships if not t.code.startswith(entry.code))
    if foreign:
        raise CountyInputError(f"{files.townships}: township codes outside county {entry.code}: {', '.join(foreign[:5])}")
    for what, listed, read, path in (("townships", entry.townships, len(townships), files.townships),
                                     ("villages", entry.villages, len(villages), files.villages)):
        if listed is not None and listed != read:
            raise CountyInputError(f"{path}: {read} {what}, but {COUNTY_LIST} line {entry.line} says {listed}")


def outline_properties(outline: Path) -> dict[str, str]:
    """The outline's properties; a missing outline is named as such (before any other error)."""
    if not outline.is_file():
        raise CountyInputError(f"{outline}: the outline file does not exist")
    return sources.read_outline_properties(outline)


def city_code_of(outline: Path, entries: list[CountyEntry], given: str | None) -> str:
    """The city's code: ``given``, else the outline's ``adcode``/``code`` property, else the one
    parent every county lists; a city code in any case (six digits ending ``00``, not ``0000``)."""
    properties = outline_properties(outline)
    parents = {e.parent_code for e in entries if e.parent_code}
    code = given or properties.get("adcode") or properties.get("code") or (parents.pop() if len(parents) == 1 else None)
    if code is None:
        raise CountyInputError(f"{outline}: no city code (no adcode or code property, and {COUNTY_LIST} names no "
                               "single parent_code); give --code")
    if level_of(code) is not ScopeLevel.city:
        raise CountyInputError(f"{code} is not a city code (six digits ending in 00)")
    return code


def province_of(city: str) -> str:
    """A city's province: its first two digits and ``0000``."""
    return city[:2] + "0000"


def save_region(writer: Writer, *, code: str, name: str, level: ScopeLevel, outline: Path | None,
                crs: str, detail: Mapping[str, object] | None = None) -> None:
    """Upsert the ``region`` row (outline converted to WGS84 and stored as GeoJSON) in one audited
    transaction; a province's parent is none, a city's its province."""
    shape = to_geojson(sources.read_outline(outline, crs=crs)) if outline is not None else None
    parent = province_of(code) if level is ScopeLevel.city else None
    with writer.sessions() as session, session.begin():
        areas.upsert(session, Region, [dict(code=code, name=name, level=level.value, parent_code=parent, outline=shape,
                                            imported_at=writer.clock())], key="code")
        audit.record(session, actor=writer.actor, role=writer.role, action=f"{level.value}_import",
                     target=f"{level.value}:{code}",
                     detail={"name": name, "outline": outline.name if outline else None, "crs": crs, **(detail or {})})


def import_city(
    writer: Writer, *, outline: Path | None, directory: Path, crs: str | None = None, code: str | None = None,
    name: str | None = None, grids: Mapping[str, int] | None = None, keep_existing: Collection[str] = (),
    progress: Progress | None = None, on_county: Callable[[CountyOutcome], None] | None = None,
) -> CityReport:
    """Onboard a city: its ``region`` row, then each county of ``directory`` in list order.

    ``outline`` may be ``None`` only when the city is part of a province import without a city
    outline (the region row then has none). ``grids`` gives a county's grid count by code (the
    others follow their size). Counties in ``keep_existing`` that are already imported are left as
    they are (the demo keeps its detailed county). Returns every county's outcome; a refused county
    changed nothing and is in ``failed``."""
    started = time.monotonic()
    entries = read_county_list(directory)
    grids = dict(grids or {})
    unknown = sorted(set(grids) - {e.code for e in entries})
    if unknown:
        raise CountyInputError(f"grid counts given for counties not in {directory / COUNTY_LIST}: {', '.join(unknown)}")
    datum = datum_of(outline, crs) if outline is not None else (crs or DEFAULT_DATUM)
    if outline is not None:
        city = city_code_of(outline, entries, code)
        city_name = name or sources.read_outline_name(outline) or city
    else:
        if code is None or level_of(code) is not ScopeLevel.city:
            raise CountyInputError(f"{directory}: a city without an outline needs its city code")
        city, city_name = code, name or code
    save_region(writer, code=city, name=city_name, level=ScopeLevel.city, outline=outline, crs=datum,
                detail={"counties": [e.code for e in entries]})
    with writer.sessions() as session:
        existing = set(session.scalars(select(County.code).where(County.code.in_([e.code for e in entries]))))
    outcomes: list[CountyOutcome] = []
    if progress is not None:
        progress(0, len(entries))
    for done, entry in enumerate(entries, start=1):
        outcome = _import_county(writer, entry, city=city, directory=directory, crs=crs, grids=grids.get(entry.code),
                                 keep=entry.code in existing and entry.code in keep_existing)
        outcomes.append(outcome)
        if on_county is not None:
            on_county(outcome)
        if progress is not None:
            progress(done, len(entries))
    return CityReport(city, city_name, outcomes, time.monotonic() - started)


def _import_county(writer: Writer, entry: CountyEntry, *, city: str, directory: Path, crs: str | None,
                   grids: int | None, keep: bool) -> CountyOutcome:
    started = time.monotonic()
    if keep:
        return CountyOutcome(entry.code, entry.name, time.monotonic() - started, kept=True)
    try:
        check_code(entry, city)
        files = county_files(directory, entry.code, crs)
        check_county(entry, files)
        done = onboarding.onboard(writer.sessions, outline=files.outline, townships=files.townships,
                                  villages=files.villages, crs=files.crs, name=entry.name, grids=grids,
                                  now=writer.clock(), actor=writer.actor, role=writer.role)
    except CountyInputError as error:
        return CountyOutcome(entry.code, entry.name, time.monotonic() - started, error=str(error))
    return CountyOutcome(entry.code, entry.name, time.monotonic() - started, onboarded=done)


def read_city_list(directory: Path, province: str | None) -> list[tuple[str, str, int]]:
    """``cities.csv``: (code, name, line) of each city, in file order."""
    if not directory.is_dir():
        raise CountyInputError(f"{directory}: not a directory")
    path = directory / CITY_LIST
    cities: list[tuple[str, str, int]] = []
    seen: dict[str, int] = {}
    for line, cells in sources.read_table(path, required=("code", "name")):
        code, name = cells["code"], cells["name"]
        if level_of(code) is not ScopeLevel.city or (province is not None and not contains(province, code)):
            raise CountyInputError(f"{path}, line {line}: {code!r} is not a city code"
                                   + (f" inside province {province}" if province else ""))
        if not name:
            raise CountyInputError(f"{path}, line {line}: the name is empty")
        if code in seen:
            raise CountyInputError(f"{path}, line {line}: city {code} is already listed on line {seen[code]}")
        seen[code] = line
        cities.append((code, name, line))
    return cities


def city_outline(directory: Path, code: str) -> Path | None:
    """The city's outline in its directory (``city_<code>_<datum>.geojson`` or ``city_<code>.geojson``)."""
    found = [p for p in (directory / f"city_{code}_{d}.geojson" for d in SOURCE_CRSES) if p.is_file()]
    plain = directory / f"city_{code}.geojson"
    found += [plain] if plain.is_file() else []
    if len(found) > 1:
        raise CountyInputError(f"{directory}: several outlines of city {code} ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None


def import_province(
    writer: Writer, *, outline: Path, directory: Path, crs: str | None = None, code: str | None = None,
    name: str | None = None, grids: Mapping[str, int] | None = None,
    on_city: Callable[[str, str], Progress | None] | None = None,
    on_county: Callable[[CountyOutcome], None] | None = None,
) -> ProvinceReport:
    """Onboard a province: its ``region`` row, then each city of ``cities.csv`` through
    :func:`import_city` from the sub-directory named by its code. A city whose directory or list is
    wrong is refused as a whole (nothing of it written) and the others go on. ``on_city(code,
    name)`` is called as each city starts and may return the city's county progress callback."""
    started = time.monotonic()
    properties = outline_properties(outline)
    province = code or properties.get("adcode") or properties.get("code")
    cities = read_city_list(directory, province)
    if province is None:
        prefixes = {c[:2] for c, _, _ in cities}
        province = prefixes.pop() + "0000" if len(prefixes) == 1 else None
    if province is None or level_of(province) is not ScopeLevel.province:
        raise CountyInputError(f"{outline}: no province code (six digits ending in 0000); give --code")
    outside = [c for c, _, _ in cities if not contains(province, c)]
    if outside:
        raise CountyInputError(f"{directory / CITY_LIST}: cities outside province {province}: {', '.join(outside)}")
    unknown = sorted(c for c in grids or {} if not any(c.startswith(city[:4]) for city, _, _ in cities))
    if unknown:
        raise CountyInputError(f"grid counts given for counties of no city in {directory / CITY_LIST}: {', '.join(unknown)}")
    province_name = name or properties.get("name") or province
    save_region(writer, code=province, name=province_name, level=ScopeLevel.province, outline=outline,
                crs=datum_of(outline, crs), detail={"cities": [c for c, _, _ in cities]})
    outcomes: list[CityOutcome] = []
    for city, city_name, _ in cities:
        progress = on_city(city, city_name) if on_city is not None else None
        sub = directory / city
        try:
            wanted = {c: n for c, n in (grids or {}).items() if c.startswith(city[:4])}
            report = import_city(writer, outline=city_outline(sub, city), directory=sub, crs=crs, code=city,
                                 name=city_name, grids=wanted, progress=progress, on_county=on_county)
        except CountyInputError as error:
            outcomes.append(CityOutcome(city, city_name, error=str(error)))
            continue
        outcomes.append(CityOutcome(city, city_name, report=report))
    return ProvinceReport(province, province_name, outcomes, time.monotonic() - started)
