"""Reading county inputs: the real Shulan files, and every kind of bad file a clerk might send."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point

from geo.errors import CountyInputError
from tests.geo.shulan_data import SHULAN_DIR
from geo.sources import (
    TownshipRecord,
    VillageRecord,
    read_outline,
    read_seat,
    read_townships,
    read_villages,
)

TOWNSHIPS_CSV = "code,name,parent_code,type\n101,甲镇,1,town(镇)\n102,乙街道,1,subdistrict(街道)\n"
TOWNSHIPS = [TownshipRecord("101", "甲镇", "town"), TownshipRecord("102", "乙街道", "subdistrict")]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _feature_collection(path: Path, *geometries: dict) -> Path:
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    return _write(path, json.dumps({"type": "FeatureCollection", "features": features}))


def _square(x: float, y: float, size: float = 0.1) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


# --- the real files -------------------------------------------------------------------------


def test_shulan_outline(shulan_dir: Path) -> None:
    outline = read_outline(shulan_dir / "shulan_220283_county_wgs84.geojson")
    assert isinstance(outline, MultiPolygon) and outline.is_valid
    assert len(outline.geoms) == 2  # the main body and one small exclave
    assert 126.0 < outline.centroid.x < 128.0 and 44.0 < outline.centroid.y < 45.0


def test_gcj02_outline_reads_as_the_wgs84_one(shulan_dir: Path) -> None:
    wgs = read_outline(shulan_dir / "shulan_220283_county_wgs84.geojson")
    gcj = read_outline(shulan_dir / "shulan_220283_county_gcj02.geojson", crs="gcj02")
    assert shapely.symmetric_difference(wgs, gcj).area < 1e-5 * wgs.area  # the file has 6 decimals


JILIN_CITY = SHULAN_DIR.parent / "jilin-city"
JILIN_CODES = ["220202", "220203", "220204", "220211", "220221", "220281", "220282", "220283", "220284"]


@pytest.mark.parametrize("code", JILIN_CODES)
def test_every_jilin_city_list_reads(code: str) -> None:
    """The nine official lists of 吉林市, 开发区 and 工业区 included, read as their counts say."""
    expected = {row["code"]: row for row in csv.DictReader((JILIN_CITY / "counties.csv").open(encoding="utf-8"))}
    townships = read_townships(JILIN_CITY / f"{code}_townships.csv")
    villages = read_villages(JILIN_CITY / f"{code}_villages.csv", townships)
    assert (len(townships), len(villages)) == (int(expected[code]["townships"]), int(expected[code]["villages"]))


def test_jilin_city_other_units_keep_their_kind() -> None:
    others = [(t.code, t.name) for code in JILIN_CODES
              for t in read_townships(JILIN_CITY / f"{code}_townships.csv") if t.kind == "other"]
    assert others == [("220202401", "幸福开发区"), ("220202402", "哈达湾经济开发区"), ("220203400", "龙潭经济开发区"),
                      ("220203401", "金珠工业区"), ("220204400", "吉林船营经济开发区")]


def test_shulan_seat(shulan_dir: Path) -> None:
    seat = read_seat(shulan_dir / "shulan_220283_seat_wgs84.geojson")
    assert seat == Point(126.941952, 44.408965)


def test_shulan_townships_and_villages(shulan_dir: Path) -> None:
    townships = read_townships(shulan_dir / "shulan_220283_townships.csv")
    villages = read_villages(shulan_dir / "shulan_220283_villages.csv", townships)
    assert len(townships) == 20 and len(villages) == 248
    assert [t.kind for t in townships].count("subdistrict") == 5
    assert [t.kind for t in townships].count("town") == 10
    assert [t.kind for t in townships].count("township") == 5
    assert [v.kind for v in villages].count("community") == 37
    assert townships[0] == TownshipRecord("220283001", "北城街道", "subdistrict")
    assert villages[0] == VillageRecord("220283001001", "育才社区", "220283001", "community")
    assert all(isinstance(v.code, str) and len(v.code) == 12 for v in villages)


# --- CSV details --------------------------------------------------------------------------


def test_codes_stay_text_with_leading_zeros(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "code,name\n007,零零七镇\n")
    assert read_townships(path) == [TownshipRecord("007", "零零七镇", "town")]


def test_type_column_is_optional_and_accepts_chinese(tmp_path: Path) -> None:
    townships = read_townships(_write(tmp_path / "t.csv", "name,code\n甲镇, 101 \n"))
    assert townships == [TownshipRecord("101", "甲镇", "town")]
    path = _write(tmp_path / "v.csv", "code,name,parent_code,type\n1,甲社区,101,社区\n2,乙村,101,\n")
    assert [v.kind for v in read_villages(path, townships)] == ["community", "village"]


# --- kinds: every township- and village-level unit of an official list ----------------------


def test_any_township_level_unit_is_kept_with_its_kind(tmp_path: Path) -> None:
    """Development zones, farms, a county's own word: none is refused; unknown types are `other`."""
    path = _write(tmp_path / "t.csv", "code,name,type\n101,幸福开发区,other\n102,红旗农场,农场\n"
                                      "103,金珠工业区,industrial_zone\n104,甲镇,镇\n105,乙乡,township(乡)\n"
                                      "106,丙街道,街道办事处\n107,丁苏木,苏木\n")
    assert [t.kind for t in read_townships(path)] == [
        "other", "other", "other", "town", "township", "subdistrict", "township"]


def test_any_village_level_unit_is_kept_with_its_kind(tmp_path: Path) -> None:
    path = _write(tmp_path / "v.csv", "code,name,parent_code,type\n1,红光牧场,101,牧场\n2,一分场,101,农场分场\n"
                                      "3,甲村,101,村民委员会\n4,乙社区,102,居民委员会\n5,丙生活区,102,other\n")
    assert [v.kind for v in read_villages(path, TOWNSHIPS)] == ["other", "other", "village", "community", "other"]


@pytest.mark.parametrize(("name", "kind"), [
    ("兴华街道", "subdistrict"), ("北城街道办事处", "subdistrict"), ("法特镇", "town"), ("亮甲山乡", "township"),
    ("两家子满族乡", "township"), ("幸福开发区", "other"), ("金珠工业区", "other"), ("红旗农场", "other"),
    ("青山林场", "other"), ("吉林船营经济开发区", "other"),
])
def test_township_kind_from_the_name_when_the_type_is_absent(tmp_path: Path, name: str, kind: str) -> None:
    assert read_townships(_write(tmp_path / "t.csv", f"code,name\n101,{name}\n"))[0].kind == kind
    assert read_townships(_write(tmp_path / "e.csv", f"code,name,type\n101,{name},\n"))[0].kind == kind


@pytest.mark.parametrize(("name", "kind"), [
    ("育才社区", "community"), ("东厂宅居委会", "community"), ("前进居民委员会", "community"), ("乙村", "village"),
    ("驿马村委", "village"), ("红旗村民委员会", "village"), ("白音嘎查", "village"), ("红光牧场", "other"),
])
def test_village_kind_from_the_name_when_the_type_is_absent(tmp_path: Path, name: str, kind: str) -> None:
    path = _write(tmp_path / "v.csv", f"code,name,parent_code\n1,{name},101\n2,乙社区,102\n")
    assert read_villages(path, TOWNSHIPS)[0].kind == kind


def test_utf8_bom_from_excel_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("code,name\n101,甲镇\n".encode("utf-8-sig"))
    assert read_townships(path)[0].code == "101"


# --- errors -------------------------------------------------------------------------------


def _error(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(CountyInputError) as caught:
        call(*args)
    return str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    message = _error(read_townships, tmp_path / "nope.csv")
    assert "nope.csv" in message and "does not exist" in message


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "villages.csv", "code,name,township\n1,甲村,101\n")
    message = _error(read_villages, path, TOWNSHIPS)
    assert str(path) in message and "missing column parent_code" in message


def test_duplicate_code(tmp_path: Path) -> None:
    path = _write(tmp_path / "townships.csv", "code,name\n101,甲镇\n102,乙镇\n101,丙镇\n")
    message = _error(read_townships, path)
    assert str(path) in message and "line 4" in message and "column code" in message
    assert "already used on line 2" in message


def test_unknown_parent(tmp_path: Path) -> None:
    path = _write(tmp_path / "villages.csv", "code,name,parent_code\n1,甲村,101\n2,乙村,999\n3,丙村,102\n")
    message = _error(read_villages, path, TOWNSHIPS)
    assert str(path) in message and "line 3" in message and "parent_code" in message and "'999'" in message


def test_township_without_villages(tmp_path: Path) -> None:
    path = _write(tmp_path / "villages.csv", "code,name,parent_code\n1,甲村,101\n")
    message = _error(read_villages, path, TOWNSHIPS)
    assert str(path) in message and "102 乙街道" in message and "no villages" in message


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "townships.csv", "")
    message = _error(read_townships, path)
    assert str(path) in message and "empty" in message


def test_header_only(tmp_path: Path) -> None:
    message = _error(read_townships, _write(tmp_path / "townships.csv", "code,name\n"))
    assert "no data rows" in message


def test_empty_name(tmp_path: Path) -> None:
    message = _error(read_townships, _write(tmp_path / "townships.csv", "code,name\n101,甲镇\n102,  \n"))
    assert "line 3, column name" in message


def test_code_mangled_by_a_spreadsheet(tmp_path: Path) -> None:
    message = _error(read_townships, _write(tmp_path / "townships.csv", "code,name\n2.20283E+11,甲镇\n"))
    assert "line 2, column code" in message and "text" in message




def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "townships.csv"
    path.write_bytes("code,name\n101,甲镇\n".encode("gbk"))
    message = _error(read_townships, path)
    assert str(path) in message and "line 2" in message and "UTF-8" in message


def test_stray_comma_in_a_row(tmp_path: Path) -> None:
    message = _error(read_townships, _write(tmp_path / "townships.csv", "code,name\n101,甲镇,乙\n"))
    assert "line 2" in message and "3 cells" in message


def test_outline_that_is_a_point(tmp_path: Path) -> None:
    path = _feature_collection(tmp_path / "outline.geojson", {"type": "Point", "coordinates": [126.9, 44.4]})
    message = _error(read_outline, path)
    assert str(path) in message and "Polygon or MultiPolygon" in message and "Point" in message


def test_outline_in_metres(tmp_path: Path) -> None:
    path = _feature_collection(tmp_path / "outline.geojson", _square(500000, 4900000, 1000))
    message = _error(read_outline, path)
    assert "degrees" in message


def test_outline_without_features(tmp_path: Path) -> None:
    path = _write(tmp_path / "outline.geojson", json.dumps({"type": "FeatureCollection", "features": []}))
    assert "no geometry" in _error(read_outline, path)


def test_outline_that_is_not_geojson(tmp_path: Path) -> None:
    path = _write(tmp_path / "outline.geojson", "this is not json")
    assert "could not be read" in _error(read_outline, path)


def test_outline_features_are_unioned_and_repaired(tmp_path: Path) -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    path = _feature_collection(tmp_path / "outline.geojson", _square(10, 10), _square(10.1, 10), bow_tie)
    outline = read_outline(path)
    assert isinstance(outline, MultiPolygon) and outline.is_valid
    assert len(outline.geoms) == 3  # two touching squares merge; the bow tie splits in two
    assert outline.area == pytest.approx(0.02 + 0.5)


def test_seat_must_be_one_point(tmp_path: Path) -> None:
    path = _feature_collection(tmp_path / "seat.geojson", _square(126.9, 44.4))
    assert "exactly one Point" in _error(read_seat, path)


def test_unknown_crs_name(tmp_path: Path) -> None:
    path = _feature_collection(tmp_path / "outline.geojson", _square(126.9, 44.4))
    with pytest.raises(CountyInputError, match="unknown crs 'bd09'"):
        read_outline(path, crs="bd09")
