"""The one rule behind "outside your area": codes nest by prefix, from a province to a grid."""

from __future__ import annotations

import pytest

from dashboard.domain.area_scope import ScopeLevel, contains, home_county, is_scope, level_of

SHULAN = "220283"
JILIN_CITY = "220200"
JILIN_PROVINCE = "220000"
TOWNSHIP = "220283100"
VILLAGE = "220283100201"
GRID = "220283100201007"


@pytest.mark.parametrize("code, level", [
    (JILIN_PROVINCE, ScopeLevel.province), (JILIN_CITY, ScopeLevel.city), (SHULAN, ScopeLevel.county),
    (TOWNSHIP, ScopeLevel.township), (VILLAGE, ScopeLevel.village), (GRID, ScopeLevel.grid),
    ("", None), ("2202", None), ("2202831", None), ("22O283", None), ("２２０２８３", None), ("-22028", None),
])
def test_the_level_of_a_code(code: str, level: ScopeLevel | None) -> None:
    assert level_of(code) is level


@pytest.mark.parametrize("scope", [JILIN_PROVINCE, JILIN_CITY, SHULAN])
@pytest.mark.parametrize("code", [SHULAN, TOWNSHIP, VILLAGE, GRID])
def test_a_county_city_and_province_hold_everything_in_the_county(scope: str, code: str) -> None:
    assert contains(scope, code)


def test_each_level_holds_only_its_own() -> None:
    assert contains(JILIN_CITY, "220202") and contains(JILIN_CITY, JILIN_CITY) and not contains(JILIN_CITY, "220102")
    assert not contains(JILIN_CITY, JILIN_PROVINCE), "a city does not hold its province"
    assert contains(JILIN_PROVINCE, "220102") and contains(JILIN_PROVINCE, "220581001") and not contains(JILIN_PROVINCE, "210283")
    assert not contains(SHULAN, "220282") and not contains(SHULAN, "220282100") and not contains(SHULAN, JILIN_CITY)
    assert contains(TOWNSHIP, GRID) and not contains(TOWNSHIP, "220283101201")
    assert not contains(VILLAGE, TOWNSHIP)


@pytest.mark.parametrize("code", ["", "2202831001x", "220283 ", "220283%", "２２０２８３100", "22028310"])
def test_a_code_that_is_no_area_is_inside_no_scope(code: str) -> None:
    assert not contains(SHULAN, code) and not contains(JILIN_PROVINCE, code)


def test_no_scope_holds_everything_and_a_bad_scope_nothing() -> None:
    assert contains(None, GRID) and contains(None, "990101")
    assert not contains("22", SHULAN) and not contains("", SHULAN) and not contains("abc", "abc")


def test_a_person_may_be_held_to_a_county_city_or_province_only() -> None:
    assert all(is_scope(code) for code in (SHULAN, JILIN_CITY, JILIN_PROVINCE))
    assert not any(is_scope(code) for code in (TOWNSHIP, VILLAGE, GRID, "22", "abcdef"))


def test_the_home_county_of_a_scope() -> None:
    assert home_county(None, SHULAN) == SHULAN
    assert home_county(JILIN_CITY, SHULAN) == SHULAN, "a city that holds the deployment's county is shown it"
    assert home_county("220282", SHULAN) == "220282", "a person of another county is shown their own"
    assert home_county("210200", SHULAN) is None, "a city without the deployment's county has no county here"
