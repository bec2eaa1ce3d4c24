"""URL parameters of the tablet and the duty console: only well-formed values survive."""

from __future__ import annotations

from datetime import date

from callbacks.duty import duty_params
from callbacks.tablet import period_of, tablet_params
from dashboard.domain.periods import Period


def test_tablet_params_keep_known_keys_only() -> None:
    assert tablet_params("", "zh") == {"lang": "zh", "range": "30d"}
    assert tablet_params("?area=990101001&range=ytd&lang=en&compare=1,2&from=2026-01-01&to=bad", "zh") == {
        "lang": "en", "range": "ytd", "area": "990101001", "compare": "1,2", "from": "2026-01-01"}
    assert tablet_params("?area=<script>&range=forever&compare=1;2", "zh") == {"lang": "zh", "range": "30d"}


def test_custom_period_falls_back_when_malformed() -> None:
    today = date(2026, 11, 23)
    assert period_of({"range": "custom", "from": "2026-11-01", "to": "2026-11-10"}, today) == Period(date(2026, 11, 1), date(2026, 11, 10))
    assert period_of({"range": "custom", "from": "2026-11-10"}, today) == Period.trailing(today, 30)


def test_duty_params() -> None:
    assert duty_params("?case=12&queue=high&lang=en", "zh") == {"lang": "en", "queue": "high", "case": "12"}
    assert duty_params("?case=1 OR 1=1&queue=x", "zh") == {"lang": "zh"}


def test_a_custom_period_before_the_supported_days_falls_back() -> None:
    """Year 1 would overflow last year's period when the figures are compared (a 500 before)."""
    today = date(2026, 11, 23)
    assert period_of({"range": "custom", "from": "0001-01-01", "to": "0001-12-31"}, today) == Period.trailing(today, 30)
