"""Masking of personal data: one table of inputs per function."""

from __future__ import annotations

import pytest

from dashboard.domain.masking import PartyDetails, mask_address, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(("given", "shown"), [
    ("张", "*"), ("张三", "张*"), ("张小明", "张*明"), ("欧阳小明", "欧**明"), (" 李四 ", "李*"),
    ("John Smith", "J********h"), ("", None), ("   ", None), (None, None),
])
def test_names_keep_the_first_and_last_character(given: str | None, shown: str | None) -> None:
    assert mask_name(given) == shown


@pytest.mark.parametrize(("given", "shown"), [
    ("13812341234", "138****1234"), ("138 1234 1234", "138****1234"), ("0431-83851234", "043*****1234"),
    ("+8613812341234", "+86*******1234"), ("110", "*10"), ("12", "**"), ("", None), (None, None),
])
def test_phones_keep_prefix_and_last_four(given: str | None, shown: str | None) -> None:
    assert mask_phone(given) == shown


@pytest.mark.parametrize(("given", "shown"), [
    ("220283199001011234", "2202**********1234"), ("22028319900101123x", "2202**********123X"),
    ("220283900101123", "2202*******1123"), ("12345678", "********"), ("", None), (None, None),
])
def test_id_numbers_hide_the_birth_date(given: str | None, shown: str | None) -> None:
    assert mask_id_number(given) == shown


@pytest.mark.parametrize(("given", "shown"), [
    ("吉林省舒兰市平安镇幸福村三组15号", "吉林省舒兰市平安镇幸福村***"),
    ("平安镇幸福村", "平安镇***"),
    ("白旗镇朝阳社区2栋301", "白旗镇朝阳社区***"),
    ("北城街道人民路88号", "北城街道***"),
    ("人民路88号院3单元", "人民路88***"),
    ("短地址", "短***"), ("", None), (None, None),
])
def test_addresses_keep_township_and_village_only(given: str | None, shown: str | None) -> None:
    assert mask_address(given) == shown


def test_masked_details_never_equal_the_originals() -> None:
    party = PartyDetails("欧阳小明", "13812341234", "220283199001011234", "平安镇幸福村三组15号")
    masked = party.masked()
    assert masked == PartyDetails("欧**明", "138****1234", "2202**********1234", "平安镇幸福村***")
    assert not set(party.as_dict().values()) & set(masked.as_dict().values())
    assert PartyDetails().masked().is_empty()
