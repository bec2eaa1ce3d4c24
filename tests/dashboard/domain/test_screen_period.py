"""The live API's period keys: one spelling per period, and only supported days."""

from __future__ import annotations

import pytest

from dashboard.domain.screen_period import ScreenPeriod


def test_equal_periods_have_one_key() -> None:
    assert ScreenPeriod.from_key("01d").key == ScreenPeriod.from_key("1d").key == "1d"
    assert ScreenPeriod.from_key("0030d").key == "30d"


@pytest.mark.parametrize("key", ["0001-01-01_0001-12-31", "9999-01-01_9999-12-31", "1999-12-31_2000-01-02",
                                 "0d", "99999d", "forever", "2025-02-30_2025-03-01"])
def test_keys_outside_the_supported_periods_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        ScreenPeriod.from_key(key)
