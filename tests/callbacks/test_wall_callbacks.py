"""Wall callbacks as plain functions."""

from __future__ import annotations

from callbacks.wall import screen_params


def test_screen_params_default_and_override() -> None:
    assert screen_params("", "zh") == {"lang": "zh", "county": None, "days": 30}
    assert screen_params("?lang=en&county=220283&days=365", "zh") == {"lang": "en", "county": "220283", "days": 365}
    assert screen_params("?lang=fr&days=-3", "zh") == {"lang": "zh", "county": None, "days": 30}
    assert screen_params("?days=99999", "en")["days"] == 30
