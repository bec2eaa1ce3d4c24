"""Duty console actions on real servers: who and when, one event each, refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import duty_service
from dashboard.duty_service import DutyActionError
from dashboard.runtime import Runtime
from data_access import cases, duty_queries
from tests.data_access.test_write_path import NOW, _walk_to_resolved
from tests.factories import draft, hours


def _case(rt: Runtime, n: int = 1, **facts: object) -> int:
    case, _ = rt.cases.submit(draft(n, NOW - hours(5), **facts), actor="窗口", now=NOW)
    return case.id


def _events(rt: Runtime, case_id: int) -> list[tuple[str, str, str]]:
    with rt.sessions() as session:
        return [(e.action, e.actor, e.note) for e in duty_queries.timeline(session, case_id)]


def test_acknowledge_records_who_and_when_once(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime, people_involved=40)
    assert duty_service.acknowledge(runtime, case_id, actor="李值班", at=NOW - hours(1))
    assert not duty_service.acknowledge(runtime, case_id, actor="王值班", at=NOW), "the first acknowledgement stands"
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None and detail.acknowledged_by == "李值班" and detail.acknowledged_at == NOW - hours(1)
    assert detail.status == "received", "acknowledging changes no state"
    assert [e[:2] for e in _events(runtime, case_id)] == [("receive", "窗口"), ("acknowledge", "李值班")]


def test_acknowledging_a_resolved_case_is_refused_and_changes_nothing(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime)
    _walk_to_resolved(runtime, case_id, NOW - hours(5))
    with runtime.sessions() as session:
        before = cases.get(session, case_id)
        snapshot = (before.status, before.resolved_at, before.updated_at, before.acknowledged_at)
    with pytest.raises(DutyActionError) as refused:
        duty_service.acknowledge(runtime, case_id, actor="李值班", at=NOW)
    assert refused.value.code == "not_allowed"
    with runtime.sessions() as session:
        after = cases.get(session, case_id)
        assert (after.status, after.resolved_at, after.updated_at, after.acknowledged_at) == snapshot
    assert "acknowledge" not in [e[0] for e in _events(runtime, case_id)]


def test_assign_to_a_department_and_supervise_with_a_note(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime)
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None
    with runtime.sessions() as session:
        choices = duty_queries.assignees(session, county, township=detail.township_code, village=detail.village_code)
    assert {a.tier for a in choices} >= {"county", "township"}
    target = choices[-1]
    duty_service.assign(runtime, case_id, actor="李值班", center_id=target.center_id, department_id=target.department_id,
                        at=NOW - hours(1))
    with pytest.raises(DutyActionError) as refused:
        duty_service.supervise(runtime, case_id, actor="李值班", note="  ", at=NOW)
    assert refused.value.code == "note_required"
    duty_service.supervise(runtime, case_id, actor="李值班", note="请今日内联系当事人", at=NOW)
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None and detail.supervised and detail.status == "received"
    assert detail.center is not None
    assert _events(runtime, case_id)[1:] == [("assign", "李值班", ""), ("supervise", "李值班", "请今日内联系当事人")]
    with pytest.raises(DutyActionError):
        duty_service.assign(runtime, 10**9, actor="李值班", center_id=target.center_id, department_id=None)


def test_queue_is_ordered_by_level_then_waiting_time(runtime: Runtime, county: str) -> None:
    old_blue = runtime.cases.submit(draft(1, NOW - timedelta(days=3)), actor="窗口", now=NOW)[0].id
    new_red = runtime.cases.submit(draft(2, NOW - hours(1), people_involved=50), actor="窗口", now=NOW)[0].id
    old_red = runtime.cases.submit(draft(3, NOW - hours(9), people_involved=50), actor="窗口", now=NOW)[0].id
    closed = _case(runtime, 4, people_involved=50)
    _walk_to_resolved(runtime, closed, NOW - hours(5))
    with runtime.sessions() as session:
        queue = duty_queries.alert_queue(session, county, levels=("red", "orange", "yellow", "blue"))
        assert duty_queries.open_red_ids(session, county) == sorted([new_red, old_red])
    ids = [row.id for row in queue]
    assert ids[:2] == [old_red, new_red] and closed not in ids
    assert ids.index(old_blue) > 1
    duty_service.acknowledge(runtime, old_red, actor="李值班", at=NOW)
    with runtime.sessions() as session:
        unacked = duty_queries.alert_queue(session, county, levels=("red",), unacknowledged_only=True)
    assert [row.id for row in unacked] == [new_red]


def test_handover_notes_are_kept_newest_first(runtime: Runtime, county: str) -> None:
    duty_service.add_handover_note(runtime, actor="夜班", text="吉舒街道红色预警待回访", at=NOW - hours(2))
    duty_service.add_handover_note(runtime, actor="早班", text="已联系", at=NOW)
    with pytest.raises(DutyActionError):
        duty_service.add_handover_note(runtime, actor="早班", text="   ")
    with pytest.raises(DutyActionError):
        duty_service.add_handover_note(runtime, actor="早班", text="长" * 2001)
    with runtime.sessions() as session:
        notes = duty_queries.handover_notes(session, county)
    assert [(n.author, n.text) for n in notes] == [("早班", "已联系"), ("夜班", "吉舒街道红色预警待回访")]


def test_unknown_case_is_not_shown(runtime: Runtime, county: str) -> None:
    assert duty_service.case_detail(runtime, 424242) is None
