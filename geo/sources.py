"""Reading a county's three input files: outline, township list, village list (plus its seat).

This is the only module in `geo` that touches files. Everything it returns is plain, validated
data in WGS84, and every problem is raised as a `CountyInputError` that names the file (and the
line and column when a CSV cell is at fault), because the people onboarding a county fix the
files by hand and need to know exactly where to look.
"""

from __future__ import annotations

import csv
import io
import numbers
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import SOURCE_CRSES, geometry_to_wgs84
from geo.errors import CountyInputError
from geo.records import TownshipRecord, VillageRecord

__all__ = [
    "TownshipRecord",
    "VillageRecord",
    "read_outline",
    "read_outline_properties",
    "read_seat",
    "read_table",
    "read_townships",
    "read_villages",
]

TOWNSHIP_KINDS: dict[str, str] = {
    "subdistrict": "subdistrict",
    "街道": "subdistrict",
    "街道办事处": "subdistrict",
    "town": "town",
    "镇": "town",
    "township": "township",
    "乡": "township",
    "民族乡": "township",
    "苏木": "township",
    "民族苏木": "township",
    "other": "other",
    "其他": "other",
}
"""Type texts of township-level units; any other text (开发区, 农场, a county's own word) is `other`."""
VILLAGE_KINDS: dict[str, str] = {
    "community": "community",
    "社区": "community",
    "居委会": "community",
    "居民委员会": "community",
    "社区居委会": "community",
    "社区/居委会": "community",
    "village": "village",
    "村": "village",
    "行政村": "village",
    "村委会": "village",
    "村民委员会": "village",
    "嘎查": "village",
    "other": "other",
    "其他": "other",
}
"""Type texts of village-level units; any other text (牧场, 农场分场, 生活区 …) is `other`."""
OTHER_KIND = "other"
"""A township- or village-level unit of a kind the lists above do not name: kept, and a township
(or village) on every screen, figure and league like any other."""

TOWNSHIP_NAME_ENDINGS: tuple[tuple[str, str], ...] = (
    ("街道办事处", "subdistrict"), ("街道", "subdistrict"), ("民族乡", "township"), ("苏木", "township"),
    ("镇", "town"), ("乡", "township"),
)
"""When a list has no type (or leaves it empty), the kind is read from the name's ending, as the
National Bureau of Statistics names them; a name with none of these endings (开发区, 工业园区,
农场, 林场 …) is `other`."""
VILLAGE_NAME_ENDINGS: tuple[tuple[str, str], ...] = (
    ("社区居委会", "community"), ("居民委员会", "community"), ("居委会", "community"), ("社区", "community"),
    ("村民委员会", "village"), ("村委会", "village"), ("村委", "village"), ("嘎查", "village"), ("村", "village"),
)

_NUMBER_LIKE_CODE = re.compile(r"^\d+(\.\d*)?[eE][+-]?\d+$|^\d+\.\d*$")


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]


def read_outline(path: str | Path, *, crs: str = "wgs84") -> MultiPolygon:
    """The county outline as one WGS84 MultiPolygon: all features unioned, repaired if a
    self-intersection makes it invalid, and rejected if it is empty, not polygonal or not in
    longitude/latitude degrees."""
    path = Path(path)
    geometries = _read_geometries(path, crs=crs, what="outline")
    not_polygonal = [g.geom_type for g in geometries if not isinstance(g, (Polygon, MultiPolygon))]
    if not_polygonal:
        raise CountyInputError(
            f"{path}: the outline must be a Polygon or MultiPolygon, "
            f"but the file holds {', '.join(sorted(set(not_polygonal)))}."
        )
    outline = shapely.union_all([_repaired(g) for g in geometries])
    outline = _polygonal_part(outline)
    if outline.is_empty or outline.area == 0:
        raise CountyInputError(f"{path}: the outline has no area.")
    outline = geometry_to_wgs84(outline, crs)
    if not outline.is_valid:
        outline = _polygonal_part(shapely.make_valid(outline))
    return outline if isinstance(outline, MultiPolygon) else MultiPolygon([outline])


def read_seat(path: str | Path, *, crs: str = "wgs84") -> Point:
    """The county seat (where the county centre sits) as a WGS84 point."""
    path = Path(path)
    geometries = _read_geometries(path, crs=crs, what="seat")
    points = [p for g in geometries for p in getattr(g, "geoms", [g])]
    if len(points) != 1 or not isinstance(points[0], Point):
        kinds = ", ".join(g.geom_type for g in geometries)
        raise CountyInputError(f"{path}: the seat must be exactly one Point, but the file holds {kinds}.")
    return Point(geometry_to_wgs84(points[0], crs).coords[0])


def read_townships(path: str | Path) -> list[TownshipRecord]:
    """The township list (columns code, name and optionally type), in file order."""
    path = Path(path)
    rows, columns = _read_csv(path, required=("code", "name"))
    townships: list[TownshipRecord] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = _code(path, row, "code", seen)
        name = _name(path, row)
        kind = _kind(row, columns, name, TOWNSHIP_KINDS, TOWNSHIP_NAME_ENDINGS)
        townships.append(TownshipRecord(code=code, name=name, kind=kind))
    return townships


def read_villages(path: str | Path, townships: list[TownshipRecord]) -> list[VillageRecord]:
    """The village list (columns code, name, parent_code and optionally type), in file order;
    every village must belong to a listed township and every township must have a village."""
    path = Path(path)
    rows, columns = _read_csv(path, required=("code", "name", "parent_code"))
    township_codes = {t.code for t in townships}
    villages: list[VillageRecord] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = _code(path, row, "code", seen)
        name = _name(path, row)
        parent = row.cells["parent_code"]
        if parent not in township_codes:
            what = "is empty" if not parent else f"is {parent!r}, which is not in the township list"
            raise CountyInputError(
                f"{path}, line {row.line}, column parent_code: the parent township code {what}."
            )
        kind = _kind(row, columns, name, VILLAGE_KINDS, VILLAGE_NAME_ENDINGS)
        villages.append(VillageRecord(code=code, name=name, township_code=parent, kind=kind))
    with_villages = {v.township_code for v in villages}
    empty = [f"{t.code} {t.name}" for t in townships if t.code not in with_villages]
    if empty:
        raise CountyInputError(
            f"{path}: these townships have no villages, so no grids can be made for them: "
            f"{', '.join(empty)}."
        )
    return villages


def _read_geometries(path: Path, *, crs: str, what: str) -> list[BaseGeometry]:
    if crs not in SOURCE_CRSES:
        choices = ", ".join(SOURCE_CRSES)
        raise CountyInputError(f"{path}: unknown crs {crs!r} for the {what}; use one of {choices}.")
    if not path.is_file():
        raise CountyInputError(f"{path}: the {what} file does not exist.")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types; all mean "not a readable vector file"
        raise CountyInputError(
            f"{path}: could not be read as a vector file (GeoJSON, Shapefile, GeoPackage): {exc}"
        ) from exc
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs("EPSG:4326")
    geometries = [g for g in frame.geometry if g is not None and not g.is_empty]
    if not geometries:
        raise CountyInputError(f"{path}: the {what} file has no geometry.")
    coords = shapely.get_coordinates(np.array(geometries, dtype=object))
    if not (np.all(np.abs(coords[:, 0]) <= 180) and np.all(np.abs(coords[:, 1]) <= 90)):
        raise CountyInputError(
            f"{path}: coordinates are outside longitude -180..180 / latitude -90..90; "
            f"the {what} must be in degrees (it looks projected, e.g. metres, or has x and y swapped)."
        )
    return geometries


def _repaired(geom: BaseGeometry) -> BaseGeometry:
    """Hand-drawn outlines often self-touch; make_valid fixes that without losing area."""
    return geom if geom.is_valid else _polygonal_part(shapely.make_valid(geom))


def _polygonal_part(geom: BaseGeometry) -> Polygon | MultiPolygon:
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    polygons = [p for g in getattr(geom, "geoms", []) for p in _polygons(g)]
    return MultiPolygon(polygons) if polygons else MultiPolygon()


def _polygons(geom: BaseGeometry) -> Iterator[Polygon]:
    if isinstance(geom, Polygon):
        yield geom
    elif isinstance(geom, MultiPolygon):
        yield from geom.geoms


def _read_csv(path: Path, *, required: tuple[str, ...]) -> tuple[list[_Row], list[str]]:
    """Rows as text (never numbers, so codes keep their digits), with 1-based file line numbers."""
    if not path.is_file():
        raise CountyInputError(f"{path}: the file does not exist.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CountyInputError(
            f"{path}, line {line}: the file is not UTF-8 text (it may be GBK from Excel); "
            "save it as 'CSV UTF-8'."
        ) from exc
    if not text.strip():
        raise CountyInputError(
            f"{path}: the file is empty; expected a header row with {', '.join(required)}."
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in required if c not in header]
    if missing:
        raise CountyInputError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"in the header (found: {', '.join(h for h in header if h) or 'nothing'})."
        )
    rows: list[_Row] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise CountyInputError(
                f"{path}, line {line}: {len(cells)} cells but the header has {len(header)} columns "
                "(an unquoted comma in a name?)."
            )
        padded = [c.strip() for c in cells] + [""] * (len(header) - len(cells))
        rows.append(_Row(line=line, cells=dict(zip(header, padded))))
    if not rows:
        raise CountyInputError(f"{path}: the file has a header but no data rows.")
    return rows, header


def _code(path: Path, row: _Row, column: str, seen: dict[str, int]) -> str:
    code = row.cells[column]
    if not code:
        raise CountyInputError(f"{path}, line {row.line}, column {column}: the code is empty.")
    if _NUMBER_LIKE_CODE.match(code):
        raise CountyInputError(
            f"{path}, line {row.line}, column {column}: {code!r} looks like a number a spreadsheet "
            "reformatted; codes must be kept as text with all their digits."
        )
    if code in seen:
        raise CountyInputError(
            f"{path}, line {row.line}, column {column}: code {code} is already used on line {seen[code]}."
        )
    seen[code] = row.line
    return code


def _name(path: Path, row: _Row) -> str:
    name = row.cells["name"]
    if not name:
        raise CountyInputError(f"{path}, line {row.line}, column name: the name is empty.")
    return name


def _kind(row: _Row, columns: list[str], name: str, kinds: dict[str, str],
          endings: tuple[tuple[str, str], ...]) -> str:
    """The unit's kind from its type ("town(镇)", "town", "镇", "社区/居委会" …); a type the table
    does not know is `other`, never an error, because official lists hold many kinds of unit
    (开发区, 农场, 林场, 牧场 …) and every one of them must onboard. Without a type, the kind is
    read from the name's ending (`other` when the ending says nothing)."""
    value = row.cells.get("type", "") if "type" in columns else ""
    if not value:
        return kind_from_name(name, endings)
    for candidate in (value.split("(")[0].split("（")[0].strip().lower(), _inside_brackets(value)):
        if candidate in kinds:
            return kinds[candidate]
    return OTHER_KIND


def kind_from_name(name: str, endings: tuple[tuple[str, str], ...]) -> str:
    """The kind a unit's name ends with (see `TOWNSHIP_NAME_ENDINGS`), or `other`."""
    for ending, kind in endings:
        if name.endswith(ending):
            return kind
    return OTHER_KIND


def _inside_brackets(value: str) -> str:
    match = re.search(r"[(（]([^)）]*)[)）]", value)
    return match.group(1).strip() if match else ""


def read_outline_name(path: str | Path) -> str | None:
    """The outline's own ``name`` property, if it has one (the county name for onboarding)."""
    return read_outline_properties(path).get("name")


def read_outline_properties(path: str | Path) -> dict[str, str]:
    """The text and whole-number properties of the outline's first feature (``name``, ``adcode`` …)
    as stripped text, the empty ones left out: a city's or province's name and code for onboarding
    (a code written as a JSON number comes back as its digits)."""
    try:
        frame = gpd.read_file(Path(path), engine="pyogrio")
    except Exception as exc:  # same failure as read_outline, reported the same way
        raise CountyInputError(f"{path}: could not be read as a vector file: {exc}") from exc
    if frame.empty:
        return {}
    first = frame.drop(columns=frame.geometry.name).iloc[0]
    found = {str(key): value.strip() if isinstance(value, str) else str(int(value))
             for key, value in first.items()
             if isinstance(value, (str, numbers.Integral)) and not isinstance(value, bool)}  # NaN/None: missing
    return {key: value for key, value in found.items() if value}


def read_table(path: str | Path, *, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """A list file's data rows (e.g. a city's ``counties.csv``) as text cells by lower-case column,
    each with its 1-based line number, checked as the township list is: UTF-8, the ``required``
    columns present, at least one row, no row longer than the header."""
    rows, _ = _read_csv(Path(path), required=required)
    return [(row.line, row.cells) for row in rows]
