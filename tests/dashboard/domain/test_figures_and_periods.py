from datetime import UTC, date, datetime

import pytest

from dashboard.domain.figures import PeriodCounts, percent
from dashboard.domain.periods import Period, day_start, local_date


def test_shulan_closure_rate_is_99_00() -> None:
    assert PeriodCounts(received=23_724, closed=23_487).closure_rate == 99.00


def test_rates_without_denominator_are_none() -> None:
    assert percent(0, 0) is None
    assert PeriodCounts().on_time_rate is None


def test_tier_shares() -> None:
    counts = PeriodCounts(received=10, closed=8, closed_village=6, closed_township=1, closed_county=1)
    assert counts.tier_shares() == {"village": 75.0, "township": 12.5, "county": 12.5}


def test_days_are_shanghai_days() -> None:
    assert local_date(datetime(2026, 11, 21, 16, 0, tzinfo=UTC)) == date(2026, 11, 22)
    assert local_date(datetime(2026, 11, 21, 15, 59, tzinfo=UTC)) == date(2026, 11, 21)
    assert day_start(date(2026, 11, 22)) == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)


def test_period_bounds_and_naive_timestamps() -> None:
    period = Period.trailing(date(2026, 11, 22), 30)
    assert period.first == date(2026, 10, 24) and len(period.days()) == 30
    assert period.end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        Period(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(ValueError):
        local_date(datetime(2026, 1, 1))
