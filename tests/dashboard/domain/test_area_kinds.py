"""Naming a unit's kind: 开发区 is not 镇, and every kind has words in both languages."""

from __future__ import annotations

import pytest

from dashboard.domain.area_kinds import OTHER_NAME_ENDINGS, TOWNSHIP_KINDS, VILLAGE_KINDS, kind_key, kind_name
from dashboard.domain.labels import LABELS


@pytest.mark.parametrize(("kind", "name", "zh", "en"), [
    ("subdistrict", "兴华街道", "街道", "Subdistrict"),
    ("town", "法特镇", "镇", "Town"),
    ("township", "亮甲山乡", "乡", "Township"),
    ("other", "幸福开发区", "开发区", "Development zone"),
    ("other", "吉林船营经济开发区", "开发区", "Development zone"),
    ("other", "金珠工业区", "工业区", "Industrial zone"),
    ("other", "长春工业园区", "工业园区", "Industrial park"),
    ("other", "红旗农场", "农场", "State farm"),
    ("other", "青山林场", "林场", "Forest farm"),
    ("other", "第一种畜场", "繁育场", "Breeding station"),
    ("other", "某某单位", "其他", "Other unit"),
    ("community", "育才社区", "社区", "Community"),
    ("village", "平安村", "村", "Village"),
    ("other", "红光牧场", "牧场", "Ranch"),
])
def test_a_units_kind_in_words(kind: str, name: str, zh: str, en: str) -> None:
    assert (kind_name(kind, name, "zh"), kind_name(kind, name, "en")) == (zh, en)


def test_the_kind_of_other_comes_from_the_name_not_from_a_named_kind() -> None:
    """A town whose name happens to end in 开发区 is still a town: only `other` reads the name."""
    assert kind_key("town", "某开发区") == "kind.town"


def test_areas_without_a_kind_have_no_words() -> None:
    assert kind_key(None, "舒兰市") is None and kind_name(None, "舒兰市", "zh") == ""
    assert kind_name("", "某网格", "en") == ""


def test_every_kind_has_zh_and_en_labels() -> None:
    keys = {f"kind.{k}" for k in (*TOWNSHIP_KINDS, *VILLAGE_KINDS)} | {f"kind.{w}" for _, w in OTHER_NAME_ENDINGS}
    assert all(LABELS[k]["zh"] and LABELS[k]["en"] for k in keys)


def test_longer_endings_come_first() -> None:
    """Each ending is checked before any shorter ending it ends with (工业园区 before 园区)."""
    endings = [e for e, _ in OTHER_NAME_ENDINGS]
    for i, ending in enumerate(endings):
        assert not any(ending.endswith(shorter) for shorter in endings[:i]), ending
