"""The synthetic-province builder of ``bench.province_bench`` at a tiny size, so the bench cannot
silently rot: clones keep their codes consistent, cases land in every county, and the county
alone holds the very same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from bench import province
from bench.schema import fresh_schema
from dashboard.imports import onboarding
from data_access.database import make_engine
from geo.generate import GeneratedArea, GeneratedCounty
from tests.conftest import BASE_PG_URL
from tests.factories import COUNTY, small_county

TEMPLATE = "220283"
NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def recoded(county: GeneratedCounty, code: str) -> GeneratedCounty:
    """The factories' small county under another county code (the builder clones 22xxxx codes)."""
    def move(area: GeneratedArea) -> GeneratedArea:
        return replace(area, code=code + area.code[6:],
                       parent_code=code + area.parent_code[6:] if area.parent_code else None)

    return GeneratedCounty([move(a) for a in county.townships], [move(a) for a in county.villages],
                           [move(a) for a in county.grids], county.seat)


@pytest.fixture
def schemas() -> Iterator[tuple[str, str, str]]:
    """Two fresh schemas of this test (the province's and the county's alone); dropped after it."""
    name = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    urls = fresh_schema(BASE_PG_URL, name), fresh_schema(BASE_PG_URL, f"{name}_alone")
    yield name, *urls
    engine = make_engine(BASE_PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE; DROP SCHEMA IF EXISTS "{name}_alone" CASCADE'))
    engine.dispose()


def counts(conn: Connection, county: str) -> tuple[int, ...]:
    return tuple(conn.execute(text("""
        SELECT (SELECT count(*) FROM township WHERE county_code = :c), (SELECT count(*) FROM village WHERE left(code, 6) = :c),
               (SELECT count(*) FROM grid WHERE left(code, 6) = :c), (SELECT count(*) FROM center WHERE county_code = :c),
               (SELECT count(*) FROM department d JOIN center c ON c.id = d.center_id WHERE c.county_code = :c)"""),
        {"c": county}).one())


def test_a_tiny_province_is_built_consistently(schemas: tuple[str, str, str]) -> None:
    name, url, alone_url = schemas
    assert COUNTY != TEMPLATE
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            onboarding.save_county(session, recoded(small_county(), TEMPLATE), name="舒兰市", now=NOW,
                                   outline_geojson='{"type": "Polygon", "coordinates": []}')
        with engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            clones = province.clone_counties(conn, [TEMPLATE], [2, 3, 4])
            assert clones == ["220383", "220483"]
            assert province.add_regions(conn, [2, 3, 4], now=NOW) == ["220200", "220300", "220400"]
            loaded = province.load_cases(conn, 3000, now=NOW, log=lambda _: None, chunk=1000)
            added = province.load_cases(conn, 600, now=NOW, log=lambda _: None, order="county")
            alone = province.copy_county(conn, name, f"{name}_alone", "220383")

            template = counts(conn, TEMPLATE)
            assert template[0] == 2 and template[2] == 8
            assert all(counts(conn, clone) == template for clone in clones)
            province.check_prefixes(conn)  # every code starts with its county's and its parent's
            assert conn.execute(text("SELECT count(*) FROM grid g LEFT JOIN village v ON v.code = g.village_code "
                                     "WHERE v.code IS NULL")).scalar_one() == 0
            assert conn.execute(text("SELECT code, level FROM region ORDER BY code")).all() == [
                ("220000", "province"), ("220200", "city"), ("220300", "city"), ("220400", "city")]

            assert (loaded.cases, loaded.grids, added.cases) == (3000, 24, 3600)
            by_county = dict(conn.execute(text('SELECT county_code, count(*) FROM "case" GROUP BY 1')).all())
            assert set(by_county) == {TEMPLATE, *clones} and sum(by_county.values()) == 3600
            # Each case's township, village and grid are the grid's own parents, in the case's county.
            assert conn.execute(text("""
                SELECT count(*) FROM "case" c JOIN grid g ON g.code = c.grid_code JOIN village v ON v.code = g.village_code
                JOIN township t ON t.code = v.township_code
                WHERE c.village_code <> v.code OR c.township_code <> t.code OR c.county_code <> t.county_code""")
                ).scalar_one() == 0
            # "county" order: the second load's ids run county by county; "arrival" interleaves them.
            runs = conn.execute(text("""
                SELECT count(*) FILTER (WHERE id > 3000 AND county_code <> prev) AS county_runs,
                       count(*) FILTER (WHERE id <= 3000 AND county_code <> prev) AS arrival_runs
                FROM (SELECT id, county_code, lag(county_code) OVER (ORDER BY id) AS prev FROM "case") s
                WHERE prev IS NOT NULL""")).one()
            assert runs.county_runs <= 3 and runs.arrival_runs > 100

            assert alone == by_county["220383"]
            same = conn.execute(text(f'''
                SELECT count(*) FROM "{name}_alone"."case" a JOIN "{name}"."case" p USING (id)
                WHERE a.grid_code = p.grid_code AND a.received_at = p.received_at''')).scalar_one()
            assert same == alone
            assert conn.execute(text(f'SELECT count(*) FROM "{name}_alone".county')).scalar_one() == 1
            next_id = conn.execute(text(f"""SELECT nextval(pg_get_serial_sequence('"{name}_alone"."case"', 'id'))"""))
            assert next_id.scalar_one() > 3600
    finally:
        engine.dispose()
