"""The duty console on plain values: the queue's order marks, the chosen case with masked personal
data, actions that refuse what the lifecycle refuses, the timeline and the handover notes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from dash import dcc, html

from dashboard.domain.duty_console import Assignee, CaseDetail, HandoverNote, QueueRow
from dashboard.domain.labels import label, reason_text
from dashboard.domain.masking import PartyDetails
from layouts import duty
from tests.layouts.tree import by_id, classes, ids, nodes, text, with_class

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PARTY = PartyDetails("张三丰", "13812345678", "220283199001011234", "吉林省舒兰市北城街道幸福路12号")
PARAMS = {"lang": "zh", "queue": "high", "case": "7"}


def _row(case_id: int = 7, *, level: str = "red", waited: timedelta = timedelta(hours=3), due_in: timedelta = timedelta(days=2),
         acknowledged: bool = False, supervised: bool = False) -> QueueRow:
    return QueueRow(id=case_id, level=level, reasons="people_red,risk_extreme", received_at=NOW - waited,
                    due_at=NOW + due_in, status="received", tier="village", category="land", people_involved=45,
                    township="吉舒街道", village="东风村", supervised=supervised,
                    acknowledged_at=NOW if acknowledged else None, acknowledged_by="李值班" if acknowledged else None)


def _detail(**changes: object) -> CaseDetail:
    base = CaseDetail(
        case_id=7, status="assessed", tier="village", category="land", source="petition", level="red",
        reasons=("people_red",), people_involved=45, received_at=NOW - timedelta(hours=30), due_at=NOW - timedelta(hours=1),
        resolved_at=None, township_code="220283100", village_code="220283100001", grid_code="220283100001002",
        supervised=True, escalated=False, acknowledged_at=None, acknowledged_by=None, center="吉舒街道矛调中心",
        department=None, first_receiver="王窗口", party=PARTY.masked(),
        events=[(NOW - timedelta(hours=30), "王窗口", "receive", None, "received", ""),
                (NOW - timedelta(hours=29), "刘研判", "assess", "received", "assessed", "联系 138****5678")],
    )
    return replace(base, **changes)


def test_waiting_time_in_the_largest_two_units() -> None:
    assert duty.waited(NOW - timedelta(hours=3, minutes=5), NOW, "zh") == "已等3小时5分"
    assert duty.waited(NOW - timedelta(days=2, hours=4), NOW, "en") == "waiting 2 d 4 h"
    assert duty.waited(NOW + timedelta(minutes=1), NOW, "zh") == "已等0小时0分", "a clock a little ahead is not negative"


def test_a_queue_row_links_to_its_case_and_marks_level_selection_and_lateness() -> None:
    row = duty.queue_row(_row(due_in=-timedelta(minutes=1), supervised=True), PARAMS, "zh", NOW, selected=True)
    assert row.id == "queue-7" and parse_qs(urlsplit(row.href).query)["case"] == ["7"]
    assert classes(row) == ["queue-row", "queue-selected", "queue-red"]
    assert classes(with_class(row, "chip")[0]) == ["chip", "chip-red"] and with_class(row, "chip")[0].children == "红色"
    assert "queue-late" in classes(with_class(row, "queue-age")[0])
    assert [classes(flag)[1] for flag in with_class(row, "flag")] == ["flag-supervised", "flag-new"]
    shown = text(row)
    assert "吉舒街道 · 东风村" in shown and "45人" in shown and reason_text("risk_extreme", "zh") in shown
    calm = duty.queue_row(_row(level="blue", acknowledged=True), PARAMS, "zh", NOW, selected=False)
    assert classes(calm) == ["queue-row", "queue-blue"] and "queue-late" not in str(calm)
    assert [classes(flag)[1] for flag in with_class(calm, "flag")] == ["flag-acked"]


def test_the_queue_panel_marks_its_filter_and_says_when_it_is_empty() -> None:
    panel = duty.queue_panel([_row(7), _row(9, level="orange")], 2, PARAMS, "zh", NOW)
    assert "seg-on" in classes(by_id(panel, "queue-filter-high")) and "seg-on" not in classes(by_id(panel, "queue-filter-all"))
    assert "queue-selected" in classes(by_id(panel, "queue-7")) and "queue-selected" not in classes(by_id(panel, "queue-9"))
    assert parse_qs(urlsplit(by_id(panel, "queue-filter-all").href).query) == {"lang": ["zh"], "queue": ["all"], "case": ["7"]}
    assert label("duty.queue_empty", "zh") in text(duty.queue_panel([], 0, PARAMS, "zh", NOW))


def test_the_summary_shows_masked_personal_data_and_never_the_id_number() -> None:
    summary = duty.case_summary(_detail(), "zh", NOW)
    shown = text(summary)
    assert "张*" in shown and "138****5678" in shown
    assert "张三丰" not in str(summary) and "13812345678" not in str(summary)
    assert PARTY.masked().party_id_number not in str(summary) and "220283199001011234" not in str(summary)
    assert classes(with_class(summary, "chip")[0]) == ["chip", "chip-red"]
    assert reason_text("people_red", "zh") in shown and "吉舒街道矛调中心" in shown
    assert [node for node in nodes(summary) if "late" in classes(node)], "past due and still open"
    assert label("duty.unacked", "zh") in shown


def test_a_resolved_case_reads_resolved_and_is_not_late() -> None:
    summary = duty.case_summary(_detail(level=None, status="resolved", resolved_at=NOW - timedelta(minutes=5)), "zh", NOW)
    chip = with_class(summary, "chip")[0]
    assert chip.children == label("status.resolved", "zh") and classes(chip) == ["chip", "chip-none"]
    assert not [node for node in nodes(summary) if "late" in classes(node)]
    acked = duty.case_summary(_detail(acknowledged_at=NOW, acknowledged_by="李值班"), "zh", NOW)
    assert "李值班 于 11-23 10:00 确认" in text(acked)
    assert text(duty.case_summary(None, "zh", NOW)) == label("duty.pick_case", "zh")


def test_the_reveal_shows_everything_and_says_it_is_audited() -> None:
    shown = text(duty.revealed(PARTY, "zh"))
    assert all(value in shown for value in PARTY.as_dict().values() if value)
    assert label("duty.revealed_note", "zh") in shown


def test_actions_offer_the_cases_places_and_refuse_what_the_lifecycle_refuses() -> None:
    places = [Assignee(3, None, "吉舒街道矛调中心", "township"), Assignee(1, 12, "县矛调中心 · 司法局", "department")]
    actions = duty.case_actions(_detail(), places, "zh")
    assert actions.hidden is False
    assert by_id(actions, duty.ASSIGN_TO).options == [{"label": "吉舒街道矛调中心", "value": "3:"},
                                                      {"label": "县矛调中心 · 司法局", "value": "1:12"}]
    assert by_id(actions, duty.ACK).disabled is False and by_id(actions, duty.SUPERVISE).disabled is False
    assert by_id(duty.case_actions(_detail(acknowledged_at=NOW), places, "zh"), duty.ACK).disabled is True
    closed = duty.case_actions(_detail(resolved_at=NOW), places, "zh")
    assert all(by_id(closed, i).disabled is True for i in (duty.ACK, duty.ASSIGN, duty.ASSIGN_TO, duty.SUPERVISE))
    empty = duty.case_actions(None, [], "zh")
    assert empty.hidden is True and {duty.ACK, duty.ASSIGN, duty.SUPERVISE, duty.REVEAL} <= set(ids(empty)), \
        "the action callback always finds its inputs"


def test_the_timeline_lists_events_oldest_first_with_state_changes_and_notes() -> None:
    timeline = duty.case_timeline(_detail(), "zh")[0]
    assert timeline.id == "duty-timeline"
    first, second = timeline.children
    assert [text(part) for part in first.children if part is not None] == ["11-22 04:00", "受理", "", " · 王窗口"]
    assert [text(part) for part in second.children if part is not None] == [
        "11-22 05:00", "研判", " 受理 → 研判", " · 刘研判", "联系 138****5678"]
    assert "event-note" in classes(second.children[-1])
    assert duty.case_timeline(None, "zh") == []


def test_handover_notes_show_time_author_and_text() -> None:
    notes = duty.notes_panel([HandoverNote("早班", NOW, "已联系"), HandoverNote("夜班", NOW - timedelta(hours=8), "待回访")], "zh")
    items = notes[0].children
    assert [text(item) for item in items] == ["11-23 10:00 · 早班 已联系", "11-23 02:00 · 夜班 待回访"]
    assert text(duty.notes_panel([], "zh")) == label("duty.no_notes", "zh")


def test_the_console_carries_the_red_ids_its_timer_and_a_language_switch() -> None:
    page = duty.console(title="舒兰市 · 值班处置台", officer="李值班", params=PARAMS, queue=["队列"], detail=None, assignees=[],
                        now=NOW, notes=[], red_ids=[7, 9], refresh_ms=5_000, queue_signature="abc")
    red = by_id(page, duty.RED)
    assert red.hidden is True and red.to_plotly_json()["props"]["data-ids"] == "7,9"
    assert by_id(page, duty.TICK).interval == 5_000
    assert by_id(page, duty.QUEUE).to_plotly_json()["props"]["data-signature"] == "abc"
    switch = by_id(page, "duty-lang")
    assert isinstance(switch, dcc.Link) and parse_qs(urlsplit(switch.href).query)["lang"] == ["en"]
    assert "值班：李值班" in text(page[0])
    assert isinstance(by_id(page, duty.HANDOVER_TEXT), dcc.Textarea) and by_id(page, duty.HANDOVER_TEXT).maxLength == 2000
    assert [h for h in nodes(page) if isinstance(h, html.H3)][0].hidden is True, "no timeline heading without a case"
