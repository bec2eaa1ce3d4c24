"""The duty console's glue: an unchanged queue is not sent to the browser again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dash import no_update

from callbacks.duty import queue_update, run_action
from dashboard.cases.personal_data import Actor
from dashboard.domain.duty_console import QueueRow
from layouts import duty
from layouts.duty import ASSIGN
from dashboard.domain.labels import label

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _row(case_id: int, level: str = "red", acknowledged: bool = False) -> QueueRow:
    return QueueRow(id=case_id, level=level, reasons="people_30", received_at=NOW - timedelta(hours=3),
                    due_at=NOW + timedelta(days=2), status="received", tier="village", category="land",
                    people_involved=45, township="吉舒街道", village="东风村", supervised=False,
                    acknowledged_at=NOW if acknowledged else None, acknowledged_by="李值班" if acknowledged else None)


def _panel(*rows: QueueRow, total: int | None = None) -> list[object]:
    return duty.queue_panel(list(rows), len(rows) if total is None else total, {"lang": "zh"}, "zh", NOW)


def test_an_unchanged_queue_is_not_resent() -> None:
    queue, signature = queue_update(_panel(_row(7), _row(9)), None)
    assert queue != no_update and isinstance(signature, str)
    assert queue_update(_panel(_row(7), _row(9)), signature) == (no_update, no_update)


def test_any_change_in_the_queue_is_sent() -> None:
    _, signature = queue_update(_panel(_row(7), _row(9)), None)
    for changed in (_panel(_row(7)), _panel(_row(7), _row(9, acknowledged=True)), _panel(_row(7), _row(9, "orange")),
                    _panel(_row(7), _row(9), total=80)):
        queue, new_signature = queue_update(changed, signature)
        assert queue == changed and new_signature != signature


def test_the_count_says_when_only_the_head_is_shown() -> None:
    text = str(_panel(_row(7), total=80))
    assert "共 80 件，显示前 1 件" in text
    assert "显示前" not in str(_panel(_row(7)))


@pytest.mark.parametrize("assign_to", ["x", "12:y", ":3", "1.5"])
def test_an_assignee_that_is_not_a_pair_of_ids_is_the_consoles_message_not_an_error(assign_to: str) -> None:
    message, clear = run_action(None, ASSIGN, {"lang": "zh", "case": "7"}, who=Actor("李值班", "duty_officer"),  # type: ignore[arg-type]
                                assign_to=assign_to, supervise_note=None, handover_text=None)
    assert message == "⚠ " + label("duty.err.pick_assignee", "zh") and not clear
