"""`county import` takes every official list as it comes: the nine county-level units of 吉林市
(development and industrial zones included) with `--crs gcj02`, units of kinds no list of ours
names, and a grid count that follows the county's size unless `--grids` says otherwise.

The nine imports run on PostgreSQL only (the embedded database runs the same code, shown by the
small county below); each takes about 5 to 15 s on an idle machine, most of it generating the
county's areas."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.cli import app as cli
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT
from data_access.models import Center, County, Grid, Township, Village
from geo.generate import grid_target_for

JILIN_CITY = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"
JILIN_COUNTIES = {row["code"]: row for row in csv.DictReader((JILIN_CITY / "counties.csv").open(encoding="utf-8"))}
OTHER_UNITS = {"220202": {"220202401": "幸福开发区", "220202402": "哈达湾经济开发区"},
               "220203": {"220203400": "龙潭经济开发区", "220203401": "金珠工业区"},
               "220204": {"220204400": "吉林船营经济开发区"}}
"""The township-level units of kind `other` in the official lists of 吉林市."""


def _count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _kinds(runtime: Runtime, model: type[Township] | type[Village], codes: list[str]) -> dict[str, str]:
    with runtime.sessions() as session:
        return dict(session.execute(select(model.code, model.kind).where(model.code.in_(codes))).all())


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
@pytest.mark.parametrize("code", sorted(JILIN_COUNTIES))
def test_every_county_of_jilin_city_onboards(runtime: Runtime, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = ["--outline", str(JILIN_CITY / f"{code}_county_gcj02.geojson"),
             "--townships", str(JILIN_CITY / f"{code}_townships.csv"),
             "--villages", str(JILIN_CITY / f"{code}_villages.csv"), "--crs", "gcj02"]
    assert cli.run(["county", "import", *files], runtime) == 0
    expected = JILIN_COUNTIES[code]
    townships, villages = int(expected["townships"]), int(expected["villages"])
    with runtime.sessions() as session:
        assert session.scalar(select(County.name).where(County.code == code)) == expected["name"]
    assert _count(runtime, Township, Township.county_code == code) == townships
    assert _count(runtime, Village) == villages
    assert _count(runtime, Center) == 1 + townships + villages
    grids = _count(runtime, Grid)
    assert villages <= grids <= grid_target_for(villages), "the grid count follows the county's size"
    assert grids >= 0.95 * grid_target_for(villages)
    others = OTHER_UNITS.get(code, {})
    assert _kinds(runtime, Township, list(others)) == {c: "other" for c in others}
    out = capsys.readouterr().out
    assert all(name in out for name in others.values()), "the `other` units are named"


def _small_county(tmp_path: Path, townships: str, villages: str) -> list[str]:
    outline = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "新区县"},
               "geometry": {"type": "Polygon",
                            "coordinates": [[[127.0, 44.0], [127.2, 44.0], [127.2, 44.1], [127.0, 44.1], [127.0, 44.0]]]}}]}
    (tmp_path / "outline.geojson").write_text(json.dumps(outline, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "townships.csv").write_text(townships, encoding="utf-8")
    (tmp_path / "villages.csv").write_text(villages, encoding="utf-8")
    return ["--outline", str(tmp_path / "outline.geojson"), "--townships", str(tmp_path / "townships.csv"),
            "--villages", str(tmp_path / "villages.csv")]


UNHEARD_OF_TOWNSHIPS = ("code,name,parent_code,type\n990301100,甲镇,990301,town(镇)\n"
                        "990301400,红旗农场,990301,国营农场\n990301401,青山林场,990301,\n"
                        "990301402,种畜场,990301,breeding_station\n")
UNHEARD_OF_VILLAGES = ("code,name,parent_code,type\n990301100001,甲村,990301100,village(村)\n"
                       "990301100002,甲社区,990301100,community(社区/居委会)\n"
                       "990301400001,一分场,990301400,农场分场\n990301401001,青山生活区,990301401,\n"
                       "990301402001,红光牧场,990301402,牧场\n")


def test_units_of_unheard_of_kinds_onboard_and_keep_their_kind(runtime: Runtime, tmp_path: Path) -> None:
    files = _small_county(tmp_path, UNHEARD_OF_TOWNSHIPS, UNHEARD_OF_VILLAGES)
    assert cli.run(["county", "import", *files, "--grids", "12"], runtime) == 0
    assert _kinds(runtime, Township, ["990301100", "990301400", "990301401", "990301402"]) == {
        "990301100": "town", "990301400": "other", "990301401": "other", "990301402": "other"}
    assert _kinds(runtime, Village, ["990301100001", "990301100002", "990301400001", "990301401001",
                                     "990301402001"]) == {
        "990301100001": "village", "990301100002": "community", "990301400001": "other",
        "990301401001": "other", "990301402001": "other"}
    assert _count(runtime, Grid) == 12, "--grids still sets the count"


def test_without_grids_the_count_follows_the_villages(runtime: Runtime, tmp_path: Path) -> None:
    files = _small_county(tmp_path, UNHEARD_OF_TOWNSHIPS, UNHEARD_OF_VILLAGES)
    assert cli.run(["county", "import", *files], runtime) == 0
    assert _count(runtime, Grid) == grid_target_for(5) == 38
