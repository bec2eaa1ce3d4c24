"""`city import` and `province import`: every county of a city through the same onboarding as
`county import`, the `region` rows with their outlines in WGS84, re-runs that update in place, and
bad input that changes nothing of the county (or city) it concerns.

Real counties of 吉林市 (the two smallest, with few grids where the count is not under test) on
PostgreSQL; the embedded database runs the same onboarding code (tests/dashboard/cli)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from dashboard.cli import app as cli
from dashboard.imports import region_import
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT
from data_access.models import AuditEntry, County, Grid, Region, Township, Village
from geo import sources
from geo.errors import CountyInputError
from geo.generate import grid_target_for

JILIN_CITY = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"
CITY_OUTLINE = JILIN_CITY / "city_220200_gcj02.geojson"
LISTED = {row["code"]: row for row in csv.DictReader((JILIN_CITY / "counties.csv").open(encoding="utf-8"))}
FENGMAN, CHUANYING, LONGTAN = "220211", "220204", "220203"
HEADER = ["code", "name", "parent_code", "townships", "villages"]

postgres_only = pytest.mark.parametrize("runtime", ["postgres"], indirect=True)


def city_dir(root: Path, codes: list[str], *, rows: dict[str, dict[str, str]] | None = None,
             files_of: list[str] | None = None) -> Path:
    """A city directory laid out as the shared one, holding ``codes`` (their rows as listed, or as
    ``rows`` overrides them) and the files of ``files_of`` (default: of every code that has them)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "counties.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, HEADER)
        writer.writeheader()
        for code in codes:
            writer.writerow({**LISTED.get(code, {}), **(rows or {}).get(code, {})})
    for code in files_of if files_of is not None else [c for c in codes if c in LISTED]:
        for name in (f"{code}_county_gcj02.geojson", f"{code}_townships.csv", f"{code}_villages.csv"):
            shutil.copy(JILIN_CITY / name, root / name)
    return root


def count(rt: Runtime, model: type, *where: object) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def county_rows(rt: Runtime) -> dict[str, str]:
    with rt.sessions() as session:
        return dict(session.execute(select(County.code, County.name)).all())


def grids_of(rt: Runtime, county: str) -> int:
    return count(rt, Grid, Grid.code.startswith(county))


def audit_actions(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [tuple(r) for r in session.execute(select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id))]


@postgres_only
def test_a_city_onboards_its_counties_and_a_rerun_updates_in_place(
        runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = city_dir(tmp_path / "city", [FENGMAN, CHUANYING])
    argv = ["city", "import", "--outline", str(CITY_OUTLINE), "--counties", str(directory),
            "--grids-per-county", f"{CHUANYING}=150"]
    assert cli.run(argv, runtime) == 0
    out = capsys.readouterr().out
    assert "city 220200 吉林市: 2 of 2 counties imported" in out

    with runtime.sessions() as session:
        region = session.get(Region, "220200")
        assert region is not None
        assert (region.name, region.level, region.parent_code) == ("吉林市", "city", "220000")
        stored = shapely.from_geojson(region.outline)
    expected = sources.read_outline(CITY_OUTLINE, crs="gcj02")  # converted to WGS84 by geo.crs
    assert stored.equals_exact(expected, tolerance=1e-9)
    raw = shape(json.loads(CITY_OUTLINE.read_text(encoding="utf-8"))["features"][0]["geometry"])
    assert 0.001 < raw.centroid.distance(stored.centroid) < 0.02, "GCJ-02 shifted back by some hundred metres"

    assert county_rows(runtime) == {FENGMAN: "丰满区", CHUANYING: "船营区"}
    for code in (FENGMAN, CHUANYING):
        assert count(runtime, Township, Township.county_code == code) == int(LISTED[code]["townships"])
        assert count(runtime, Village, Village.code.startswith(code)) == int(LISTED[code]["villages"])
    fengman_grids = grids_of(runtime, FENGMAN)
    assert 0.95 * grid_target_for(93) <= fengman_grids <= grid_target_for(93), "its size decides"
    assert 140 <= grids_of(runtime, CHUANYING) <= 150, "the count given for it"
    assert audit_actions(runtime) == [("city_import", "city:220200"), ("county_import", f"county:{FENGMAN}"),
                                      ("county_import", f"county:{CHUANYING}")]

    before = (count(runtime, Township), count(runtime, Village), count(runtime, Grid))
    assert cli.run(argv, runtime) == 0
    assert "0 stale grids removed" in capsys.readouterr().out
    assert (count(runtime, Township), count(runtime, Village), count(runtime, Grid)) == before
    assert count(runtime, Region) == 1 and len(county_rows(runtime)) == 2


@postgres_only
def test_a_bad_county_changes_nothing_of_it_and_the_others_go_in(
        runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = city_dir(tmp_path / "city", [CHUANYING, "990101", LONGTAN, FENGMAN],
                         rows={CHUANYING: {"villages": "999"},
                               "990101": {"code": "990101", "name": "外县", "parent_code": "220200"}},
                         files_of=[CHUANYING, FENGMAN])
    argv = ["city", "import", "--outline", str(CITY_OUTLINE), "--counties", str(directory),
            "--grids-per-county", f"{FENGMAN}=120"]
    assert cli.run(argv, runtime) == 2, "a refused county makes the command fail"
    out = capsys.readouterr().out
    assert f"county {CHUANYING} 船营区: REFUSED, nothing of it was written: " in out
    assert "121 villages, but counties.csv line 2 says 999" in out
    assert "990101 is not a county code inside city 220200" in out
    assert f"no outline of county {LONGTAN}" in out
    assert "each county is its own transaction" in out
    assert "1 of 4 counties imported" in out

    assert county_rows(runtime) == {FENGMAN: "丰满区"}
    assert count(runtime, Township, Township.county_code != FENGMAN) == 0
    assert count(runtime, Grid, ~Grid.code.startswith(FENGMAN)) == 0
    assert [a for a in audit_actions(runtime) if a[0] == "county_import"] == [("county_import", f"county:{FENGMAN}")]


@pytest.mark.parametrize("runtime", ["embedded"], indirect=True)
def test_a_bad_city_changes_nothing_at_all(runtime: Runtime, tmp_path: Path) -> None:
    good = city_dir(tmp_path / "good", [FENGMAN], files_of=[])
    outline = ["--outline", str(CITY_OUTLINE)]
    with pytest.raises(CountyInputError, match="counties.csv: the file does not exist"):
        cli.run(["city", "import", *outline, "--counties", str(tmp_path)], runtime)
    with pytest.raises(CountyInputError, match="grid counts given for counties not in"):
        cli.run(["city", "import", *outline, "--counties", str(good), "--grids-per-county", "220299=5"], runtime)
    with pytest.raises(CountyInputError, match="the outline file does not exist"):
        cli.run(["city", "import", "--outline", str(tmp_path / "none.geojson"), "--code", "220200",
                 "--counties", str(good)], runtime)
    with pytest.raises(CountyInputError, match="220283 is not a city code"):
        cli.run(["city", "import", *outline, "--code", "220283", "--counties", str(good)], runtime)
    assert count(runtime, Region) == 0 and county_rows(runtime) == {}
    assert cli.main(["city", "import", *outline, "--counties", str(tmp_path)]) == 2, "one line, exit 2"


def province_dir(root: Path) -> tuple[Path, Path]:
    """A synthetic province of 吉林市 (丰满区 alone) and a listed city whose directory is missing."""
    city_dir(root / "220200", [FENGMAN])
    shutil.copy(CITY_OUTLINE, root / "220200" / CITY_OUTLINE.name)
    (root / "cities.csv").write_text("code,name\n220200,吉林市\n220300,四平市\n", encoding="utf-8")
    feature = json.loads(CITY_OUTLINE.read_text(encoding="utf-8"))["features"][0]
    feature["properties"] = {"adcode": "220000", "name": "吉林省"}
    outline = root / "province_220000_gcj02.geojson"
    outline.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return root, outline


@postgres_only
def test_a_province_onboards_each_city_through_city_import(
        runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory, outline = province_dir(tmp_path / "province")
    argv = ["province", "import", "--outline", str(outline), "--cities", str(directory),
            "--grids-per-county", f"{FENGMAN}=100"]
    assert cli.run(argv, runtime) == 2, "the missing city is reported"
    out = capsys.readouterr().out
    assert "city 220200 吉林市: 1 of 1 counties imported" in out
    assert "city 220300 四平市: REFUSED, nothing of it was written:" in out
    assert "province 220000 吉林省: 1 of 2 cities imported" in out
    with runtime.sessions() as session:
        regions = {r.code: (r.name, r.level, r.parent_code, r.outline is not None)
                   for r in session.scalars(select(Region))}
    assert regions == {"220000": ("吉林省", "province", None, True), "220200": ("吉林市", "city", "220000", True)}
    assert county_rows(runtime) == {FENGMAN: "丰满区"}
    assert 90 <= grids_of(runtime, FENGMAN) <= 100

    (directory / "cities.csv").write_text("code,name\n220200,吉林市\n", encoding="utf-8")
    assert cli.run(argv, runtime) == 0, "fixed, the same command runs clean and updates in place"
    assert count(runtime, Region) == 2 and len(county_rows(runtime)) == 1


def test_codes_and_datums_are_read_as_the_layout_names_them(tmp_path: Path) -> None:
    assert region_import.datum_of(Path("city_220200_gcj02.geojson"), None) == "gcj02"
    assert region_import.datum_of(Path("city_220200.geojson"), None) == "wgs84"
    assert region_import.datum_of(Path("city_220200_gcj02.geojson"), "wgs84") == "wgs84"
    assert region_import.province_of("220200") == "220000"
    directory = city_dir(tmp_path, [FENGMAN])
    files = region_import.county_files(directory, FENGMAN, None)
    assert (files.outline.name, files.crs) == (f"{FENGMAN}_county_gcj02.geojson", "gcj02")
    shutil.copy(files.outline, directory / f"{FENGMAN}_county_wgs84.geojson")
    with pytest.raises(CountyInputError, match="several outlines"):
        region_import.county_files(directory, FENGMAN, None)
    (directory / "counties.csv").write_text("code,name,villages\n220211,丰满区,many\n", encoding="utf-8")
    with pytest.raises(CountyInputError, match="line 2, column villages: 'many' is not a whole number"):
        region_import.read_county_list(directory)
