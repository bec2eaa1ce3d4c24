"""Queries of one matter across channels: duplicate candidates, suggestions, merged matters,
party keys and the matters figure. Functions flush but never commit: the caller owns the
transaction.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import redis
from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, literal, or_, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dashboard.domain.similarity import CaseSketch, Match, degrees_around
from data_access import areas, redis_changes
from data_access import redis_keys as keys
from data_access.figure_queries import AREA_COLUMNS
from data_access.models import Case, Grid, Matter, MatterMember, MatterSuggestion, PartyKey, Township, Village

CANDIDATE_LIMIT = 200
"""At most this many stored cases are scored per arrival (newest first): a bound on the write path."""
TEXT_LIMIT = 500
"""Characters of a description compared: reports longer than this say the same in their start."""

_SKETCH = (Case.id, Case.category, Case.village_code, Case.received_at, Case.lon, Case.lat,
           func.substr(Case.description, 1, TEXT_LIMIT).label("description"))


def _sketches(rows: Iterable[Sequence[object]]) -> list[CaseSketch]:
    return [CaseSketch(*row) for row in rows]  # type: ignore[arg-type]


Box = tuple[float, float, float, float]
"""(west, south, east, north) in degrees."""


def _bounds(coordinates: object, box: list[float]) -> None:
    if isinstance(coordinates, list | tuple) and coordinates and isinstance(coordinates[0], int | float):
        x, y = float(coordinates[0]), float(coordinates[1])  # type: ignore[arg-type]
        box[0], box[1], box[2], box[3] = min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)
    elif isinstance(coordinates, list | tuple):
        for part in coordinates:
            _bounds(part, box)


def grid_boxes(session: Session, county: str) -> dict[str, Box]:
    """Every grid's bounding box, for finding the grids near a point (read once per process)."""
    boxes: dict[str, Box] = {}
    for code, _, _, geometry in areas.grid_geometries(session, county):
        box = [math.inf, math.inf, -math.inf, -math.inf]
        try:
            _bounds(json.loads(geometry).get("coordinates"), box)
        except (ValueError, AttributeError):
            continue
        if box[0] <= box[2]:
            boxes[code] = (box[0], box[1], box[2], box[3])
    return boxes


class GridIndex:
    """Every grid's bounding box of one county as arrays: the grids near a point in one
    vectorised comparison (a Python loop over Shulan's 1,860 grids took 0.6 ms per arrival)."""

    def __init__(self, boxes: dict[str, Box]) -> None:
        self.codes = np.array(list(boxes), dtype=object)
        self.boxes = np.array(list(boxes.values()), dtype=float).reshape(-1, 4)

    def near(self, lon: float, lat: float, metres: float) -> list[str]:
        """The grids whose box comes within ``metres`` of the point (a superset of those truly near)."""
        dlat, dlon = degrees_around(lat, metres)
        b = self.boxes
        hit = (b[:, 0] - dlon <= lon) & (lon <= b[:, 2] + dlon) & (b[:, 1] - dlat <= lat) & (lat <= b[:, 3] + dlat)
        return [str(code) for code in self.codes[hit]]


@lru_cache(maxsize=8)
def _candidate_statement(located: bool, with_keys: bool) -> Select[Any]:
    """The candidates statement, built once per shape and reused with new values (building and
    compiling it per arrival cost more than running it)."""
    recent_since = bindparam("recent_since")
    pool = or_(Case.resolved_at.is_(None), Case.received_at >= recent_since)
    keys = bindparam("keys", expanding=True)
    shares: ColumnElement[bool] = (exists().where(PartyKey.case_id == Case.id, PartyKey.key.in_(keys))
                                   if with_keys else literal(False))
    columns = (*_SKETCH, shares.label("same_party"))
    common = (Case.received_at >= bindparam("window_start"), Case.received_at <= bindparam("window_end"), pool,
              Case.id != bindparam("case_id"), Case.category.in_(bindparam("categories", expanding=True)))
    branches = [select(*columns).where(Case.village_code == bindparam("village_code"), *common)]
    if located:
        branches.append(select(*columns).where(
            Case.grid_code.in_(bindparam("grids", expanding=True)), Case.village_code != bindparam("village_code"),
            *common, Case.lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
            Case.lon.between(bindparam("lon_lo"), bindparam("lon_hi"))))
    if with_keys:
        party = select(PartyKey.case_id).where(PartyKey.key.in_(keys), PartyKey.received_at >= recent_since)
        branches.append(select(*columns).where(Case.id.in_(party), Case.id != bindparam("case_id"), pool))
    both = union_all(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    return select(both).order_by(both.c.received_at.desc()).limit(CANDIDATE_LIMIT)


def candidates(session: Session, *, case_id: int, village_code: str, categories: Sequence[str],
               lon: float | None, lat: float | None, grids: Sequence[str], keys: Sequence[str],
               window_start: datetime, window_end: datetime, recent_since: datetime,
               distance_m: float) -> list[CaseSketch]:
    """The cases an arriving case is compared with, in one statement (one round trip):

    - of one of ``categories``, received in the window, in the same village
      (``ix_case_village_received``) or, located, within ``distance_m`` in one of the ``grids``
      near the point (``ix_case_grid_received``);
    - or of the same party (any of ``keys``, ``ix_party_key_key_received``), wherever and
      whatever their type;

    each open or received since ``recent_since``, newest first, at most ``CANDIDATE_LIMIT``. A
    sketch carries ``keys`` when its case shares the party, else none.
    """
    located = lon is not None and lat is not None and bool(grids)
    values: dict[str, object] = {"case_id": case_id, "village_code": village_code, "categories": list(categories),
                                 "window_start": window_start, "window_end": window_end,
                                 "recent_since": recent_since}
    if located:
        dlat, dlon = degrees_around(lat, distance_m)  # type: ignore[arg-type]
        values.update(grids=list(grids), lat_lo=lat - dlat, lat_hi=lat + dlat,  # type: ignore[operator]
                      lon_lo=lon - dlon, lon_hi=lon + dlon)  # type: ignore[operator]
    if keys:
        values["keys"] = list(keys)
    found: dict[int, CaseSketch] = {}
    mine = frozenset(keys)
    for *row, same in session.execute(_candidate_statement(located, bool(keys)), values).all():
        sketch = CaseSketch(*row, keys=mine if same else frozenset())  # type: ignore[arg-type,misc]
        found.setdefault(sketch.id, sketch)
    return list(found.values())


def add_party_keys(session: Session, case: Case, keys: Sequence[str]) -> None:
    """One INSERT of the case's keys (Core: the ORM's unit of work cost a millisecond per case)."""
    if keys:
        session.execute(insert(PartyKey), [{"case_id": case.id, "key": k, "county_code": case.county_code,
                                            "received_at": case.received_at} for k in dict.fromkeys(keys)])


def cases_of_party(session: Session, keys: Sequence[str], *, since: datetime, until: datetime) -> int:
    """Distinct cases of the same person received in ``[since, until]``."""
    if not keys:
        return 0
    stmt = select(func.count(func.distinct(PartyKey.case_id))).where(
        PartyKey.key.in_(keys), PartyKey.received_at >= since, PartyKey.received_at <= until)
    return int(session.scalar(stmt) or 0)


def repeat_calls(session: Session, case_id: int, *, since: datetime, until: datetime) -> int:
    """How many cases the party of ``case_id`` brought in ``[since, until]`` (0 without a key)."""
    keys = list(session.scalars(select(PartyKey.key).where(PartyKey.case_id == case_id)))
    return cases_of_party(session, keys, since=since, until=until)


def add_suggestions(session: Session, case_id: int, matches: Sequence[Match], *, at: datetime) -> None:
    """One INSERT of the case's suggestions (none: no statement)."""
    if matches:
        session.execute(insert(MatterSuggestion), [
            {"case_id": case_id, "other_id": m.other_id, "score": m.score, "state": "open", "found_at": at,
             "reasons": json.dumps([r.as_json() for r in m.reasons], ensure_ascii=False)} for m in matches])


@dataclass(frozen=True)
class SuggestionRow:
    id: int
    case_id: int
    other_id: int
    score: float
    reasons: list[list[object]]
    state: str
    decided_by: str | None
    decided_at: datetime | None

    def partner(self, case_id: int) -> int:
        return self.other_id if self.case_id == case_id else self.case_id


def suggestions_for(session: Session, case_id: int, *, limit: int = 20) -> list[SuggestionRow]:
    """Suggestions either side of ``case_id``, best first."""
    stmt = (select(MatterSuggestion).where(or_(MatterSuggestion.case_id == case_id, MatterSuggestion.other_id == case_id))
            .order_by(MatterSuggestion.score.desc(), MatterSuggestion.id).limit(limit))
    return [SuggestionRow(s.id, s.case_id, s.other_id, s.score, json.loads(s.reasons or "[]"), s.state,
                          s.decided_by, s.decided_at) for s in session.scalars(stmt)]


def suggestion(session: Session, case_id: int, other_id: int, *, for_update: bool = False) -> MatterSuggestion | None:
    stmt = select(MatterSuggestion).where(or_(
        and_(MatterSuggestion.case_id == case_id, MatterSuggestion.other_id == other_id),
        and_(MatterSuggestion.case_id == other_id, MatterSuggestion.other_id == case_id)))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def set_state(session: Session, row: MatterSuggestion, state: str, *, by: str | None, at: datetime | None) -> None:
    row.state, row.decided_by, row.decided_at = state, by, at
    session.flush()


def membership(session: Session, case_id: int) -> MatterMember | None:
    return session.get(MatterMember, case_id)


def matter(session: Session, matter_id: int, *, for_update: bool = False) -> Matter | None:
    stmt = select(Matter).where(Matter.id == matter_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def members(session: Session, matter_id: int) -> list[int]:
    return list(session.scalars(select(MatterMember.case_id).where(MatterMember.matter_id == matter_id)
                                .order_by(MatterMember.case_id)))


def new_matter(session: Session, county: str, lead_case_id: int, *, by: str, at: datetime) -> Matter:
    row = Matter(county_code=county, lead_case_id=lead_case_id, created_at=at, created_by=by)
    session.add(row)
    session.flush()
    return row


def join(session: Session, matter_id: int, case_ids: Iterable[int], *, by: str, at: datetime) -> None:
    session.add_all(MatterMember(case_id=c, matter_id=matter_id, joined_at=at, joined_by=by) for c in case_ids)
    session.flush()


def leave(session: Session, case_id: int) -> None:
    session.execute(delete(MatterMember).where(MatterMember.case_id == case_id))
    session.flush()


def move_members(session: Session, from_matter: int, to_matter: int) -> None:
    session.execute(update(MatterMember).where(MatterMember.matter_id == from_matter).values(matter_id=to_matter))
    session.flush()


def drop_matter(session: Session, matter_id: int) -> None:
    session.execute(delete(Matter).where(Matter.id == matter_id))
    session.flush()


def not_led() -> ColumnElement[bool]:
    """True for a case that is no member of a matter, or leads its matter: the one the wall shows."""
    follower = exists().where(MatterMember.case_id == Case.id, MatterMember.matter_id == Matter.id,
                              Matter.lead_case_id != Case.id)
    return ~follower


def repeats(session: Session, *, county_code: str, start: datetime, end: datetime,
            area: tuple[str, str] | None = None) -> int:
    """received − matters over cases received in ``[start, end)`` (DESIGN.md "matters"): for each
    matter, its members received in the period and area less one. Read from the small member
    table joined to the case rows; a case in no matter adds nothing."""
    where = [Case.county_code == county_code, Case.received_at >= start, Case.received_at < end]
    if area is not None:
        where.append(AREA_COLUMNS[area[0]] == area[1])
    stmt = (select(func.count(MatterMember.case_id), func.count(func.distinct(MatterMember.matter_id)))
            .join(Case, Case.id == MatterMember.case_id).where(*where))
    merged, matters = session.execute(stmt).one()
    return int(merged) - int(matters)


def matters_sql(session: Session, *, county_code: str, start: datetime, end: datetime,
                area: tuple[str, str] | None = None) -> int:
    """The matters figure as the plain SQL of its definition: distinct matters among the period's
    received cases, a case in no matter being its own. Tests hold ``received − repeats`` to it."""
    key = func.coalesce(MatterMember.matter_id, -Case.id)
    where = [Case.county_code == county_code, Case.received_at >= start, Case.received_at < end]
    if area is not None:
        where.append(AREA_COLUMNS[area[0]] == area[1])
    stmt = select(func.count(func.distinct(key))).select_from(Case).outerjoin(
        MatterMember, MatterMember.case_id == Case.id).where(*where)
    return int(session.scalar(stmt) or 0)


def announce_change(client: redis.Redis, county: str) -> int:
    """Bump the county's aggregate version and publish it, as a write does, so every screen
    recomputes now (a merge changes what the wall shows but no counter). Returns the version."""
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.meta(county), "changed_at", repr(time.time()))
        pipe.hincrby(keys.meta(county), "version", 1)
        _, version = pipe.execute()
    redis_changes.publish_change(client, county, int(version))
    return int(version)


def area_level(session: Session, county: str, code: str) -> str | None:
    """``county``, ``township``, ``village`` or ``grid`` for an area code of the county's tables."""
    if code == county:
        return "county"
    for level, model in (("township", Township), ("village", Village), ("grid", Grid)):
        if session.get(model, code) is not None:
            return level
    return None


def visible_ids(session: Session, case_ids: Sequence[int], sees: Callable[[str], bool]) -> list[int]:
    """The cases among ``case_ids`` whose grid the caller ``sees``."""
    if not case_ids:
        return []
    rows = session.execute(select(Case.id, Case.grid_code).where(Case.id.in_(case_ids)))
    return [case_id for case_id, grid in rows if sees(grid)]
