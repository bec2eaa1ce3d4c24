"""The demo grows to its city: the demo county keeps its own history exactly, every other county
is onboarded and gets a history of its own size (its villages against the demo county's), its
aggregates equal SQL, the progress is recorded for /api/status, a re-run continues without writing
anything twice, and the live feed writes in every served county through that county's write path.

A small version of ``make run``'s ``demo grow-city``: two real counties of 吉林市 (丰满区 standing in
for the demo county) with few grids, two days."""

from __future__ import annotations

import csv
import itertools
import random
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import create_app

from dashboard.access.auth import Role
from dashboard.cases import cache_ops, demo, demo_growth
from dashboard.cli import app as cli
from dashboard.cli.demo import fed_counties
from dashboard.domain.periods import local_date
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT
from data_access.models import Case, County, Region
from tests.dashboard.auth_support import as_role

JILIN_CITY = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"
DEMO_COUNTY, OTHER = "220211", "220204"
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SEED = 20260101
DAYS = 2


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """吉林市 with two of its counties, laid out as the shared directory."""
    rows = [row for row in csv.DictReader((JILIN_CITY / "counties.csv").open(encoding="utf-8"))
            if row["code"] in (DEMO_COUNTY, OTHER)]
    with (tmp_path / "counties.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for code in (DEMO_COUNTY, OTHER):
        for name in (f"{code}_county_gcj02.geojson", f"{code}_townships.csv", f"{code}_villages.csv"):
            shutil.copy(JILIN_CITY / name, tmp_path / name)
    shutil.copy(JILIN_CITY / "city_220200_gcj02.geojson", tmp_path)
    return tmp_path


@pytest.fixture
def rt(runtime: Runtime, city: Path) -> Runtime:
    """The demo's runtime: its default county is the demo county, imported and backfilled first."""
    demo_rt = Runtime(replace(runtime.settings, county_code=DEMO_COUNTY), clock=lambda: NOW)
    files = ["--outline", str(city / f"{DEMO_COUNTY}_county_gcj02.geojson"), "--crs", "gcj02",
             "--townships", str(city / f"{DEMO_COUNTY}_townships.csv"),
             "--villages", str(city / f"{DEMO_COUNTY}_villages.csv"), "--grids", "100"]
    assert cli.run(["county", "import", *files], demo_rt) == 0
    assert demo.backfill(demo_rt.cases, days=DAYS, now=NOW, seed=SEED) > 0
    yield demo_rt
    demo_rt.close()


def cases_of(rt: Runtime, county: str) -> dict[str, str]:
    """Each case's reference and grid."""
    with rt.sessions() as session:
        return dict(session.execute(select(Case.external_ref, Case.grid_code).where(Case.county_code == county)).all())


def expected_history(rt: Runtime, county: str, villages: int) -> set[str]:
    """The references the county's own history holds for the days written, drawn afresh."""
    stream = demo.HistoryStream.of_county(county, villages)
    history = demo.History(demo.CaseFactory(rt.case_service(county), random.Random(0)), SEED, stream=stream)
    days = [local_date(NOW) - timedelta(days=d) for d in range(DAYS)]
    return {plan.draft.external_ref for day in days for plan in history.day(day) if plan.draft.received_at <= NOW}


def test_the_demo_grows_to_its_city_and_the_feed_writes_in_every_county(
        rt: Runtime, city: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo_cases = cases_of(rt, DEMO_COUNTY)
    with rt.sessions() as session:
        demo_imported = session.get(County, DEMO_COUNTY).imported_at  # type: ignore[union-attr]
    argv = ["demo", "grow-city", "--dir", str(city), "--days", str(DAYS), "--grids-per-county", f"{OTHER}=120"]
    assert cli.run(argv, rt) == 0
    out = capsys.readouterr().out

    assert cases_of(rt, DEMO_COUNTY) == demo_cases, "the demo county keeps its history exactly"
    with rt.sessions() as session:
        assert session.get(County, DEMO_COUNTY).imported_at == demo_imported, "and is not re-imported"  # type: ignore[union-attr]
        assert session.get(Region, "220200") is not None
    other = cases_of(rt, OTHER)
    assert set(other) == expected_history(rt, OTHER, villages=121), "its own history, of its own size"
    assert all(ref.startswith(f"demo-{OTHER}-") for ref in other)
    assert all(grid.startswith(OTHER) for grid in other.values())
    scale = demo.HistoryStream.of_county(OTHER, 121).scale
    assert scale == 121 / 248
    assert 0.3 < len(other) / (len(demo_cases) * scale) < 3, "about its size against the demo county"
    with rt.sessions() as session:
        assert cache_ops.reconcile(session, rt.redis, OTHER, rt.rules) == [], "its aggregates equal SQL"
    growth = demo_growth.read(rt.settings.var_dir)
    assert growth is not None
    assert (growth["city"], growth["finished"], growth["counties_done"], growth["counties_total"],
            growth["cases_written"], growth["failed"]) == ("220200", True, 2, 2, len(other), [])
    assert "grow: 2 of 2 counties ready" in out
    leader = TestClient(create_app(rt).server)
    as_role(leader, rt, Role.leader)
    assert leader.get("/api/status").json()["demo_growth"] == growth, "/api/status shows the progress"
    assert "demo_growth" not in TestClient(create_app(rt).server).get("/api/status").json(), "to a signed-in caller"
    assert f"grow: county {OTHER} 船营区 imported" in out

    assert cli.run(argv, rt) == 0, "a re-run continues where it was"
    assert cases_of(rt, OTHER) == other and cases_of(rt, DEMO_COUNTY) == demo_cases

    weights = {service.county_code: weight for service, weight in fed_counties(rt)}
    assert weights == {DEMO_COUNTY: 1.0, OTHER: 121 / 93}
    seconds = itertools.count()  # within the write path's allowed skew of its pinned clock
    demo.live_counties(lambda: fed_counties(rt), rate=10_000, seed=5, limit=120,
                       clock=lambda: NOW + timedelta(seconds=next(seconds)))
    for county in (DEMO_COUNTY, OTHER):
        live = {ref: grid for ref, grid in cases_of(rt, county).items() if ref.startswith("live-")}
        assert len(live) >= 10, f"the feed writes in {county}"
        assert all(grid.startswith(county) for grid in live.values())
        with rt.sessions() as session:
            assert cache_ops.reconcile(session, rt.redis, county, rt.rules) == []
