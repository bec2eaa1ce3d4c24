"""Wall callbacks as plain functions."""

from __future__ import annotations

from callbacks.wall import screen_params


def test_screen_params_default_and_override() -> None:
    assert screen_params("", "zh") == {"lang": "zh", "county": None, "township": None, "days": 30, "tour": True}
    assert screen_params("?lang=en&county=220283&township=220283101&days=365&tour=off", "zh") == {
        "lang": "en", "county": "220283", "township": "220283101", "days": 365, "tour": False}
    assert screen_params("?lang=fr&days=-3&township=x';--", "zh") == {
        "lang": "zh", "county": None, "township": None, "days": 30, "tour": True}
    assert screen_params("?days=99999", "en")["days"] == 30
