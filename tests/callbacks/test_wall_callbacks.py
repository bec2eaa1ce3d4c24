"""Wall callbacks as plain functions: URL parameters and what one refresh sends."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Patch

from callbacks.wall import refresh_outputs, screen_params
from dashboard.alerts import Alert
from dashboard.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.vocabulary import AlertLevel
from dashboard.wall_snapshot import AreaState, WallSnapshot
from layouts.kpi import KPI_NAMES


def test_screen_params_default_and_override() -> None:
    assert screen_params("", "zh") == {"lang": "zh", "county": None, "days": 30}
    assert screen_params("?lang=en&county=220283&days=365", "zh") == {"lang": "en", "county": "220283", "days": 365}
    assert screen_params("?lang=fr&days=-3", "zh") == {"lang": "zh", "county": None, "days": 30}


def test_refresh_sends_kpi_texts_and_values_only() -> None:
    snapshot = WallSnapshot(
        county="220283", version=7, computed_at=datetime(2026, 11, 22, 2, 0, 5, tzinfo=UTC),
        figures=WallFigures(PeriodCounts(received=65, closed=20), PeriodCounts(received=23_724, closed=23_487),
                            InstantCounts(open=237, overdue=12, red=3)),
        areas={"220283001001001": AreaState(Alert(AlertLevel.red, ("people_red",)), 2, 1, PeriodCounts(received=9, closed=7))},
    )
    out = refresh_outputs(snapshot)
    texts = dict(zip(KPI_NAMES, out[: len(KPI_NAMES)], strict=True))
    assert texts == {"received_today": "65", "closed_today": "20", "open": "237", "overdue": "12",
                     "closure_rate_30d": "99.00%", "red_alerts": "3"}
    grids = out[len(KPI_NAMES)]
    assert isinstance(grids, Patch)
    assert grids.to_plotly_json()["operations"][0]["params"]["value"] == {"220283001001001": ["red", 2, 1, 9, 7, ["people_red"]]}
    assert out[-2] == "10:00:05"
