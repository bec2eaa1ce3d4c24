"""Early warnings in the database and their signal in Redis. Functions never commit.

The warnings job reads receipts (time, grid, category: no personal data) and the area tree, and
keeps ``area_warning`` in step with what the model finds; screens and the API read the open rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from data_access import redis_changes
from data_access import redis_keys as keys
from data_access.models import AreaWarning, Case, County, Grid, Township, Village

MAX_LISTED = 200
"""No screen or response lists more open warnings than this (worst first)."""


@dataclass(frozen=True)
class AreaTree:
    """Every area of a county in the model's order (county, townships, villages, grids), each
    grid's rows up the tree, and the name a person reads."""

    codes: list[str]
    levels: list[str]
    names: list[str]
    """The place as the reason text names it: the township, then the village, then the grid."""
    grid_rows: dict[str, tuple[int, int, int, int]]
    """grid code → its row, its village's, its township's and the county's."""

    def index(self) -> dict[str, int]:
        return {code: row for row, code in enumerate(self.codes)}


def area_tree(session: Session, county_code: str) -> AreaTree:
    county = session.get(County, county_code)
    townships = session.execute(select(Township.code, Township.name).where(Township.county_code == county_code)
                                .order_by(Township.code)).all()
    villages = session.execute(select(Village.code, Village.name, Village.township_code)
                               .join(Township, Village.township_code == Township.code)
                               .where(Township.county_code == county_code).order_by(Village.code)).all()
    grids = session.execute(select(Grid.code, Grid.name, Grid.village_code)
                            .join(Village, Grid.village_code == Village.code)
                            .join(Township, Village.township_code == Township.code)
                            .where(Township.county_code == county_code).order_by(Grid.code)).all()
    codes = [county_code] + [t.code for t in townships] + [v.code for v in villages] + [g.code for g in grids]
    levels = ["county"] + ["township"] * len(townships) + ["village"] * len(villages) + ["grid"] * len(grids)
    row = {code: i for i, code in enumerate(codes)}
    township_name = {t.code: t.name for t in townships}
    village_name = {v.code: f"{township_name[v.township_code]} · {v.name}" for v in villages}
    village_township = {v.code: v.township_code for v in villages}
    names = ([county.name if county else county_code] + [t.name for t in townships] + [village_name[v.code] for v in villages]
             + [f"{village_name[g.village_code]} · {g.name}" for g in grids])
    grid_rows = {g.code: (row[g.code], row[g.village_code], row[village_township[g.village_code]], 0) for g in grids}
    return AreaTree(codes, levels, names, grid_rows)


def receipts(session: Session, county_code: str, start: datetime, end: datetime) -> tuple[
        npt.NDArray[np.int64], list[str], list[str]]:
    """(receipt time in epoch seconds, grid code, category) of every case received in [start, end)."""
    rows = session.execute(select(Case.received_at, Case.grid_code, Case.category)
                           .where(Case.county_code == county_code, Case.received_at >= start, Case.received_at < end)).all()
    seconds = np.fromiter((int(r[0].timestamp()) for r in rows), dtype=np.int64, count=len(rows))
    return seconds, [r[1] for r in rows], [r[2] for r in rows]


def receipt_times(session: Session, county_code: str, start: datetime, end: datetime) -> npt.NDArray[np.int64]:
    """Epoch seconds of every receipt in [start, end): the county's daily totals for the season."""
    times = session.scalars(select(Case.received_at)
                            .where(Case.county_code == county_code, Case.received_at >= start, Case.received_at < end)).all()
    return np.fromiter((int(t.timestamp()) for t in times), dtype=np.int64, count=len(times))


def open_warnings(session: Session, county_code: str, *, inside: str | None = None,
                  limit: int = MAX_LISTED) -> list[AreaWarning]:
    """Open warnings of a county (or of the areas inside ``inside``: area codes nest by prefix),
    least probable first."""
    query = select(AreaWarning).where(AreaWarning.county_code == county_code, AreaWarning.cleared_at.is_(None))
    if inside is not None and inside != county_code:
        query = query.where(AreaWarning.area_code.startswith(inside, autoescape=True))
    return list(session.scalars(query.order_by(AreaWarning.p_value, AreaWarning.id).limit(min(max(limit, 1), MAX_LISTED))))


def all_open(session: Session, county_code: str) -> list[AreaWarning]:
    """Every open warning of a county, for the job that keeps them in step (locked for it)."""
    return list(session.scalars(select(AreaWarning).where(AreaWarning.county_code == county_code,
                                                          AreaWarning.cleared_at.is_(None))
                                .order_by(AreaWarning.id).with_for_update()))


def cleared_since(session: Session, county_code: str, since: datetime) -> list[AreaWarning]:
    """Warnings closed at or after ``since``: one that comes back soon is reopened, not repeated."""
    return list(session.scalars(select(AreaWarning).where(AreaWarning.county_code == county_code,
                                                          AreaWarning.cleared_at >= since)
                                .order_by(AreaWarning.cleared_at.desc())))


def get(session: Session, warning_id: int, *, for_update: bool = False) -> AreaWarning | None:
    query = select(AreaWarning).where(AreaWarning.id == warning_id)
    return session.scalars(query.with_for_update() if for_update else query).first()


def add(session: Session, rows: Sequence[AreaWarning]) -> None:
    session.add_all(rows)
    session.flush()


def lock_key(county_code: str) -> str:
    """One warnings job at a time per county, whichever process runs it."""
    return keys.county_key(county_code, "lock:warnings")


def due_key(county_code: str) -> str:
    """Set for one interval by the process that runs the job; the others skip until it expires."""
    return keys.county_key(county_code, "warnings:due")


def announce(client: redis.Redis, county_code: str) -> int:
    """Tell every process that the county's screens changed: bump the aggregate version (their
    caches are keyed by it) and publish it on the change channel, as a write does."""
    pipe = client.pipeline(transaction=True)
    pipe.hincrby(keys.meta(county_code), "version", 1)
    version = int(pipe.execute()[0])
    redis_changes.publish_change(client, county_code, version)
    return version
