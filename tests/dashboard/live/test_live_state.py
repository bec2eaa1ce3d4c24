"""Live screen states and their deltas: only what changed travels, gaps are detectable."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.domain.alerts import Alert
from dashboard.domain.figures import InstantCounts, PeriodCounts, WallFigures
from dashboard.live.live_state import compose, screen_state, state_delta
from dashboard.domain.vocabulary import AlertLevel
from dashboard.screens.wall_snapshot import AreaState, WallSnapshot

GRID = "220283001001001"


def _snapshot(version: int, *, open_cases: int, red: int) -> WallSnapshot:
    level = AlertLevel.red if red else AlertLevel.blue
    return WallSnapshot(
        county="220283", version=version, computed_at=datetime(2026, 11, 22, 2, 0, 5, tzinfo=UTC),
        figures=WallFigures(PeriodCounts(received=65, closed=20), PeriodCounts(received=23_724, closed=23_487),
                            InstantCounts(open=open_cases, overdue=12, red=red)),
        areas={GRID: AreaState(Alert(level, ("people_red",) if red else ()), open_cases, 1, PeriodCounts(received=9, closed=7)),
               "220283001001002": AreaState(None, 0, 0, PeriodCounts(received=3, closed=3))},
    )


def test_full_state_has_kpi_texts_and_values() -> None:
    state = screen_state(_snapshot(7, open_cases=2, red=1), build="b1")
    assert state["id"].startswith(f"7-{int(datetime(2026, 11, 22, 2, 0, 5, tzinfo=UTC).timestamp() // 60)}-")
    assert state["kpis"] == {"received_today": "65", "closed_today": "20", "open": "2", "overdue": "12",
                             "closure_rate_30d": "99.00%", "red_alerts": "1"}
    assert state["values"][GRID] == ["red", 2, 1, 9, 7, ["people_red"]]
    assert state["updated"] == "10:00:05"


def test_delta_carries_only_changes_and_chains() -> None:
    a = screen_state(_snapshot(7, open_cases=2, red=1), build="b1")
    b = screen_state(_snapshot(8, open_cases=3, red=1), build="b1")
    c = screen_state(_snapshot(9, open_cases=3, red=0), build="b1")
    ab, bc = state_delta(a, b), state_delta(b, c)
    assert ab["kpis"] == {"open": "3"} and list(ab["values"]) == [GRID]
    assert bc["kpis"] == {"red_alerts": "0"}
    merged = compose([ab, bc])
    assert merged is not None and (merged["from"], merged["to"]) == (a["id"], c["id"])
    assert merged["kpis"] == {"open": "3", "red_alerts": "0"} and merged["values"][GRID][0] == "blue"
    assert compose([bc, ab]) is None, "deltas that do not chain are refused"


def test_same_version_and_minute_with_other_figures_is_another_state() -> None:
    """A Redis rebuilt from empty counts versions again: a screen must not take new figures for the ones it holds."""
    before = screen_state(_snapshot(2, open_cases=2, red=1), build="b1")
    after = screen_state(_snapshot(2, open_cases=3, red=1), build="b1")
    assert before["id"] != after["id"]
    assert screen_state(_snapshot(2, open_cases=2, red=1), build="b1")["id"] == before["id"], "same content, same id"


def test_removed_area_travels_as_none() -> None:
    a = screen_state(_snapshot(7, open_cases=2, red=1), build="b1")
    b = dict(a, id="8-0", values={GRID: a["values"][GRID]})
    assert state_delta(a, b)["values"] == {"220283001001002": None}
