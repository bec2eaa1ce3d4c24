"""Every case of a county as compact columns, the input of a rebuild.

On PostgreSQL one query computes each case's day, place, category, source, figure bits and
fact-reason bits into one packed bigint and returns them as a few large byte strings, parsed with
numpy without a Python object per case; that is what makes a 10 M-case rebuild take seconds. Any other
database (the embedded SQLite) reads plain rows through ``contributions.contribution``, which
is also the definition the packed SQL must equal (tests compare the two).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import numpy.typing as npt
from psycopg import sql
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard.domain.contributions import CATEGORIES, FACT_CODES, FIGURES, SOURCES, contribution
from dashboard.domain.rules import Rules
from data_access import areas
from data_access.aggregates import WARN_BIT, CaseColumns, columns_from_contributions
from data_access.models import Case

FIXED_OFFSET_SINCE = datetime(1991, 9, 17)
"""Asia/Shanghai has been UTC+8 without daylight saving since 1991-09-15: later days are arithmetic."""
UNPLACED = 0xFFFF
WORKERS = 2
"""Connections reading id ranges at once: PostgreSQL 15 runs ``string_agg`` in one process per query."""
MAX_RANGE = 1 << 25
"""Ids per query at most: 16 bytes each stays well under PostgreSQL's 1 GB per value. Fewer,
larger queries are better: each one is JIT-compiled again (1 M-id ranges cost 15 % more CPU)."""
_PAIR = np.dtype([("id", ">i8"), ("value", ">i8")])


def case_columns(session: Session, county: str, rules: Rules) -> CaseColumns:
    if session.get_bind().dialect.name == "postgresql":
        first = session.scalar(select(func.min(Case.received_at)).where(Case.county_code == county))
        if first is None or first.replace(tzinfo=None) >= FIXED_OFFSET_SINCE:
            return _copy_columns(session, county, rules)
    rows = session.execute(select(Case.__table__).where(Case.county_code == county).order_by(Case.id)
                           .execution_options(yield_per=5000))
    return columns_from_contributions((row.id, contribution(row, rules)) for row in rows)  # type: ignore[arg-type]


def _cases(values: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" ").join(values)


def _packed_select(places: dict[tuple[str, str, str], int], rules: Rules) -> sql.Composable:
    """day << 40 | place << 24 | category << 20 | source << 16 | figure bits << 8 | reason bits.

    The day is integer date arithmetic (``date_part`` goes through ``numeric`` since PostgreSQL 14:
    a quarter slower over 10 M rows); the place joins on the grid alone and checks the parents
    (a third cheaper than a three-column hash join)."""
    bit = {name: 1 << i for i, name in enumerate(FIGURES)}
    reason = {code: 1 << i for i, (_, code) in enumerate(FACT_CODES)}
    category = _cases([sql.SQL("WHEN {} THEN {}").format(sql.Literal(c), i) for i, c in enumerate(CATEGORIES)])
    source = _cases([sql.SQL("WHEN {} THEN {}").format(sql.Literal(s), i) for i, s in enumerate(SOURCES)])
    values = sql.SQL(", ").join(sql.SQL("({}, {}, {}, {})").format(sql.Literal(g), sql.Literal(v), sql.Literal(t), i)
                                for (t, v, g), i in places.items())
    return sql.SQL("""
        SELECT c.id,
          (((c.received_at + interval '8 hours')::date - date '1970-01-01')::int8 << 40)
          | ((CASE WHEN p.village_code = c.village_code AND p.township_code = c.township_code
                   THEN p.idx ELSE {unplaced} END)::int8 << 24)
          | ((CASE c.category {category} ELSE 15 END)::int8 << 20)
          | ((CASE c.source {source} ELSE 15 END)::int8 << 16)
          | ({received}
             + CASE WHEN c.resolved_at IS NOT NULL
                    THEN {closed}
                       + CASE WHEN c.resolved_at <= c.due_at THEN {on_time} ELSE 0 END
                       + CASE c.resolved_tier WHEN 'village' THEN {village} WHEN 'township' THEN {township}
                                              WHEN 'county' THEN {county_tier} ELSE 0 END
                    ELSE CASE WHEN c.people_involved >= {red_people} THEN {people_red} ELSE 0 END
                       + CASE WHEN c.risk_extreme THEN {risk_extreme} ELSE 0 END
                       + CASE WHEN c.risk_mass_incident THEN {risk_mass} ELSE 0 END
                       + CASE WHEN c.beyond_county_petition THEN {beyond} ELSE 0 END
                       + CASE WHEN c.people_involved >= {orange_people} AND c.people_involved < {red_people}
                              THEN {people_orange} ELSE 0 END
                       + CASE WHEN c.repeat_petition THEN {repeat} ELSE 0 END
                       + CASE WHEN c.escalated THEN {escalated} ELSE 0 END
                       + CASE WHEN c.status <> 'received' THEN {warn} ELSE 0 END
               END
             + CASE WHEN c.satisfaction IS NOT NULL THEN {followed} ELSE 0 END
             + CASE WHEN c.satisfaction = 'satisfied' THEN {satisfied} ELSE 0 END)::int8
        FROM "case" c
        LEFT JOIN (VALUES {values}) AS p(grid_code, village_code, township_code, idx)
          ON p.grid_code = c.grid_code
        WHERE c.county_code = {county}
    """).format(
        unplaced=UNPLACED, category=category, source=source, values=values, county=sql.Placeholder(),
        red_people=rules.red_people, orange_people=rules.orange_people,
        received=bit["received"] << 8, closed=bit["closed"] << 8, on_time=bit["closed_on_time"] << 8,
        village=bit["closed_village"] << 8, township=bit["closed_township"] << 8,
        county_tier=bit["closed_county"] << 8, followed=bit["followed_up"] << 8, satisfied=bit["satisfied"] << 8,
        people_red=reason["people_red"], risk_extreme=reason["risk_extreme"], risk_mass=reason["risk_mass_incident"],
        beyond=reason["beyond_county_petition"], people_orange=reason["people_orange"],
        repeat=reason["repeat_petition"], escalated=reason["escalated"], warn=WARN_BIT,
    )


def _fetch(engine: Engine, snapshot: str, query: sql.Composable,
           runs: list[tuple[object, ...]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(id, value) pairs of a two-bigint-column query, run once per parameter tuple in ``runs``.

    PostgreSQL packs each run's rows into one byte string (``string_agg`` of ``int8send``), parsed
    by numpy: no Python object, no protocol message, per case. One plain aggregate per id range,
    not a ``GROUP BY``: the planner cannot tell that ``id >> 16`` has few values, plans a hash
    aggregate for 10 M groups, and spills it to disk (a third slower). Runs on a connection of its
    own inside the exported ``snapshot``, so several run in parallel and all see the same state."""
    aggregated = sql.SQL("SELECT string_agg(int8send(q.id) || int8send(q.value), ''::bytea) "
                         "FROM ({}) AS q(id, value)").format(query)
    parts: list[npt.NDArray[np.void]] = []
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        raw.rollback()  # type: ignore[union-attr]  # a pool hook may have left a transaction open
        with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            for params in runs:
                cursor.execute(aggregated, params)
                parts += [np.frombuffer(blob, dtype=_PAIR) for (blob,) in cursor if blob]
        raw.rollback()  # type: ignore[union-attr]
    finally:
        pooled.close()
    pairs = np.concatenate(parts) if parts else np.zeros(0, dtype=_PAIR)
    return pairs["id"].astype(np.int64), pairs["value"].astype(np.int64)


def _copy_columns(session: Session, county: str, rules: Rules) -> CaseColumns:
    """The packed query over ``WORKERS`` connections taking turns through the id ranges, plus the
    open cases' deadlines, all in one snapshot of the database."""
    known = areas.grid_places(session, county)
    places = {(p.township_code, p.village_code, g): i for i, (g, p) in enumerate(sorted(known.items()))}
    connection = session.connection()
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    low, high = connection.execute(select(func.min(Case.id), func.max(Case.id))
                                   .where(Case.county_code == county)).one()
    low, high = int(low or 0), int(high or 0) + 1
    count = max(WORKERS, -(-(high - low) // MAX_RANGE))
    step = -(-(high - low) // count)
    ranges = [(county, start, start + step) for start in range(low, high, step)] if high > low else []
    packed_query = sql.SQL("SELECT * FROM ({}) AS p WHERE p.id >= {} AND p.id < {}").format(
        _packed_select(places, rules), sql.Placeholder(), sql.Placeholder())
    open_query = sql.SQL('SELECT id, (extract(epoch FROM due_at) * 1000000)::int8 FROM "case" '
                         "WHERE county_code = {} AND resolved_at IS NULL").format(sql.Placeholder())
    engine = connection.engine
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = [pool.submit(_fetch, engine, snapshot, packed_query, ranges[k::WORKERS]) for k in range(WORKERS)]
        opened = pool.submit(_fetch, engine, snapshot, open_query, [(county,)])
        ids = np.concatenate([part.result()[0] for part in parts])
        packed = np.concatenate([part.result()[1] for part in parts])
        open_ids, open_due = opened.result()
    place = (packed >> 24) & 0xFFFF
    unplaced = np.flatnonzero(place == UNPLACED)
    if unplaced.size:
        stray = session.execute(select(Case.id, Case.township_code, Case.village_code, Case.grid_code)
                                .where(Case.id.in_(ids[unplaced].tolist()))).all()
        where = {case_id: places.setdefault((t, v, g), len(places)) for case_id, t, v, g in stray}
        place[unplaced] = [where[int(i)] for i in ids[unplaced]]
    category, source = (packed >> 20) & 0xF, (packed >> 16) & 0xF
    if (category >= len(CATEGORIES)).any() or (source >= len(SOURCES)).any():
        raise ValueError("a case has a category or source outside the vocabulary")
    return CaseColumns(ids, packed >> 40, place, category, source, (packed >> 8) & 0xFF, packed & 0xFF,
                       open_ids, open_due, list(places))
