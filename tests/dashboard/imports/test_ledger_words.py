"""The pure parts of reading a ledger: its times, its words, and matching its place names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.domain.ledger_times import TimeTextError, ledger_time
from dashboard.domain.ledger_words import builtin_words, place_stem
from dashboard.imports.place_match import PlaceIndex, Placed, Unplaced
from data_access.place_names import CountyPlaces, NamedTownship, NamedVillage

NINE_THIRTY = datetime(2025, 3, 5, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2025/3/5 9:30", "2025-03-05 09:30:00", "2025年3月5日 9:30", "2025年3月5日9时30分", "2025.3.5 9:30",
    "２０２５／３／５　９：３０", "2025-03-05T09:30:00", "2025-03-05T09:30:00+08:00", "2025-03-05T01:30:00Z",
])
def test_every_shape_is_the_same_asia_shanghai_instant(text: str) -> None:
    assert ledger_time(text) == NINE_THIRTY


@pytest.mark.parametrize("text", ["2025/3/5", "2025-03-05", "2025年3月5日", "2025.3.5"])
def test_a_date_alone_opens_the_day_for_receipt_and_closes_it_for_resolution(text: str) -> None:
    assert ledger_time(text) == datetime(2025, 3, 4, 16, tzinfo=UTC)
    assert ledger_time(text, end_of_day=True) == datetime(2025, 3, 5, 15, 59, tzinfo=UTC)


@pytest.mark.parametrize("text, complaint", [
    ("1999-12-31 23:00", "between 2000-01-01 and 2100-12-31"), ("2101-01-01", "between"),
    ("0001-01-01T00:00:00+00:00", "between"), ("9999-01-01", "between"), ("2025/2/29", "no such day"),
    ("2025/3/5 24:00", "no such time"), ("昨天", "not a time"), ("45721", "not a time"),
])
def test_impossible_or_out_of_range_times_are_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(TimeTextError, match=complaint):
        ledger_time(text)


def test_values_by_code_label_synonym_and_full_width() -> None:
    words = builtin_words()
    assert [words.code_of("source", v) for v in ("online", "APP/小程序", "ＡＰＰ", "网上", "传真")] == [
        "online", "online", "online", "online", None]
    assert [words.code_of("tier", v) for v in ("村（社区）级", "村(社区)级", "乡镇级", "县（市）级")] == [
        "village", "village", "township", "county"]
    assert [words.code_of("satisfaction", v) for v in ("满意", "基本满意", "一般", "不满意")] == [
        "satisfied", "satisfied", "neutral", "dissatisfied"]
    assert words.field_of("*所属乡镇(街道)：") == "township" and words.field_of("序号") is None


def test_suffixes_drop_and_name_the_kind_of_unit() -> None:
    assert (place_stem("育才社区居委会").stem, place_stem("育才社区居委会").kind) == ("育才", "社区")
    assert (place_stem("法特村民委员会").stem, place_stem("法特村民委员会").kind) == ("法特", "村")
    assert place_stem("村").stem == "村", "a name that is nothing but a suffix keeps it"


def test_names_match_whole_then_stem_and_kind_then_stem() -> None:
    index = PlaceIndex(CountyPlaces(
        (NamedTownship("t1", "法特镇", "town", "g-t1"), NamedTownship("t2", "白旗镇", "town", "g-t2")),
        (NamedVillage("v1", "法特村", "village", "t1", "法特镇", "g-v1"),
         NamedVillage("v2", "法特社区", "community", "t1", "法特镇", "g-v2"),
         NamedVillage("v3", "保安村", "village", "t2", "白旗镇", "g-v3"),
         NamedVillage("v4", "保安村民委员会", "village", "t1", "法特镇", "g-v4"),
         NamedVillage("v5", "空村", "village", "t2", "白旗镇", None))))
    assert index.find("法特镇", "法特村") == Placed("g-v1")
    assert index.find("法特", "法特村委会") == Placed("g-v1")
    assert index.find("法特镇", "法特居委会") == Placed("g-v2")
    assert index.find("白旗镇", "保安") == Placed("g-v3")
    assert index.find("", "保安村") == Placed("g-v3"), "a whole name decides before stems"
    assert index.find("白旗镇", "") == Placed("g-t2", township_only=True)
    ambiguous = index.find("法特镇", "法特")
    assert isinstance(ambiguous, Unplaced) and "fits 2 places" in ambiguous.message
    across = index.find("", "保安村委会")
    assert isinstance(across, Unplaced) and "give the township" in across.message
    unknown = index.find("白旗镇", "红旗村")
    assert isinstance(unknown, Unplaced) and unknown.column == "village" and "closest:" in unknown.message
    assert index.find("白旗镇", "空村") == Unplaced("village", "village 空村 has no grids")
