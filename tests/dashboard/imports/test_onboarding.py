"""Onboarding the real demo county through the CLI, and refusing bad files without a trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shapely import from_geojson, union_all
from sqlalchemy import create_engine, func, select, text

from dashboard.settings import PROJECT_ROOT
from data_access.models import Center, Department, Grid, Township, Village

DATA = PROJECT_ROOT.parent / "shared" / "data" / "shulan"
FILES = ["--outline", str(DATA / "shulan_220283_county_wgs84.geojson"),
         "--townships", str(DATA / "shulan_220283_townships.csv"),
         "--villages", str(DATA / "shulan_220283_villages.csv")]


def _cli(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["MEDIATION_VAR_DIR"] = str(var)
    return subprocess.run([sys.executable, "-m", "dashboard", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var = tmp_path_factory.mktemp("onboard")
    assert _cli(var, "db", "upgrade").returncode == 0
    done = _cli(var, "county", "import", *FILES, "--seat", str(DATA / "shulan_220283_seat_wgs84.geojson"))
    assert done.returncode == 0, done.stderr
    return var


def _count(var: Path, model: type) -> int:
    engine = create_engine(f"sqlite:///{var / 'mediation.db'}")
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_shulan_has_its_real_townships_villages_and_generated_grids(imported: Path) -> None:
    assert _count(imported, Township) == 20
    assert _count(imported, Village) == 248
    assert 1700 <= _count(imported, Grid) <= 2000
    assert _count(imported, Center) == 1 + 20 + 248
    assert _count(imported, Department) == 12 + 20 * 4


def test_grids_cover_the_outline_without_overlaps(imported: Path) -> None:
    engine = create_engine(f"sqlite:///{imported / 'mediation.db'}")
    with engine.connect() as conn:
        outline = from_geojson(conn.execute(text("SELECT outline FROM county")).scalar_one())
        grids = [from_geojson(g) for (g,) in conn.execute(text("SELECT geometry FROM grid"))]
    union = union_all(grids)
    assert abs(union.area - outline.area) / outline.area < 1e-3
    assert abs(sum(g.area for g in grids) - union.area) / union.area < 1e-4, "grids overlap"


def test_reimport_updates_in_place(imported: Path) -> None:
    grids = _count(imported, Grid)
    again = _cli(imported, "county", "import", *FILES)
    assert again.returncode == 0, again.stderr
    assert (_count(imported, Township), _count(imported, Grid), _count(imported, Center)) == (20, grids, 269)


def test_bad_village_file_is_refused_and_changes_nothing(imported: Path, tmp_path: Path) -> None:
    bad = tmp_path / "villages.csv"
    lines = (DATA / "shulan_220283_villages.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines, "220283999001,幽灵村,220283999,无此镇,village(村),"]) + "\n", encoding="utf-8")
    files = list(FILES)
    files[files.index("--villages") + 1] = str(bad)
    refused = _cli(imported, "county", "import", *files)
    assert refused.returncode == 2
    assert "220283999" in refused.stderr
    assert _count(imported, Village) == 248
