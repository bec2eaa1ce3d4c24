"""Masking of free text (descriptions, event notes): stored details and the shapes of phones and ID numbers."""

from __future__ import annotations

import pytest

from dashboard.domain.masking import PartyDetails, mask_text


@pytest.mark.parametrize(("given", "shown"), [
    ("电话13812345678", "电话138****5678"),
    ("电话 138-1234-5678 或 139 8765 4321", "电话 138****5678 或 139****4321"),
    ("+8613812345678", "+86138****5678"),
    ("身份证220283199001011234。", "身份证2202**********1234。"),
    ("证号22028319900101123x", "证号2202**********123X"),
    ("座机0431-83851234，(0431)83851234", "座机043*****1234，043*****1234"),
    ("ID:220283199001011234,tel:15912345678", "ID:2202**********1234,tel:159****5678"),
])
def test_phones_and_id_numbers_in_text_are_masked_like_the_fields(given: str, shown: str) -> None:
    assert mask_text(given) == shown


@pytest.mark.parametrize("kept", [
    "欠款12000元，涉及35人", "案号2026010112345", "编号 12345678901", "10086", "20260101123456789012",
    "2026-11-22 09:30", "04318385123", "电话12812345678", "", "经纬度44.05,127.05",
])
def test_figures_dates_and_references_are_left_alone(kept: str) -> None:
    assert mask_text(kept) == kept


def test_a_cases_stored_details_are_masked_wherever_they_appear() -> None:
    party = PartyDetails("欧阳小明", "0431 8888 7777", "22028319900101123X", "平安镇幸福村三组15号")
    text = "欧阳小明称邻居占用通道；欧阳小明电话0431 8888 7777，身份证22028319900101123X，住平安镇幸福村三组15号"
    assert mask_text(text, [party]) == ("欧**明称邻居占用通道；欧**明电话043*****7777，身份证2202**********123X，"
                                        "住平安镇幸福村***")


def test_short_stored_values_are_not_hunted_for_in_text() -> None:
    """A one-character name or a three-digit number would mask every occurrence of it."""
    assert mask_text("王家屯张某报警110", [PartyDetails("张", "110")]) == "王家屯张某报警110"


def test_none_and_empty_text_become_empty() -> None:
    assert mask_text(None) == "" and mask_text("", [PartyDetails("张三")]) == ""
