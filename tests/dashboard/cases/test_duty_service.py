"""Duty console actions on real servers: who and when, one event each, refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.access.auth import Principal, Role, acting_as
from dashboard.cases import duty_service
from dashboard.cases.duty_service import DutyActionError
from dashboard.domain.duty_console import Assignee, HandoverNote, QueueRow
from dashboard.domain.masking import PartyDetails
from dashboard.cases.personal_data import Actor, submit
from dashboard.runtime import Runtime
from data_access import cases, duty_queries
from data_access.models import AuditEntry, Township, Village
from data_access.models import HandoverNote as HandoverNoteRecord
from tests.data_access.test_write_path import NOW, _walk_to_resolved
from tests.factories import draft, hours


LI = Actor("李值班", "duty_officer", "10.0.0.8")
WANG = Actor("王值班", "duty_officer")


def _audit(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.sessions() as session:
        return [(a.actor, a.action, a.target) for a in session.query(AuditEntry).order_by(AuditEntry.id)]


def _case(rt: Runtime, n: int = 1, **facts: object) -> int:
    case, _ = rt.cases.submit(draft(n, NOW - hours(5), **facts), actor="窗口", now=NOW)
    return case.id


def _events(rt: Runtime, case_id: int) -> list[tuple[str, str, str]]:
    with rt.sessions() as session:
        return [(e.action, e.actor, e.note) for e in duty_queries.timeline(session, case_id)]


def test_acknowledge_records_who_and_when_once(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime, people_involved=40)
    assert duty_service.acknowledge(runtime, case_id, who=LI, at=NOW - hours(1))
    assert not duty_service.acknowledge(runtime, case_id, who=WANG, at=NOW), "the first acknowledgement stands"
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None and detail.acknowledged_by == "李值班" and detail.acknowledged_at == NOW - hours(1)
    assert detail.status == "received", "acknowledging changes no state"
    assert [e[:2] for e in _events(runtime, case_id)] == [("receive", "窗口"), ("acknowledge", "李值班")]
    assert _audit(runtime) == [("李值班", "acknowledge", f"case:{case_id}")], "one audit entry, none for the repeat"


def test_acknowledging_a_resolved_case_is_refused_and_changes_nothing(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime)
    _walk_to_resolved(runtime, case_id, NOW - hours(5))
    with runtime.sessions() as session:
        before = cases.get(session, case_id)
        snapshot = (before.status, before.resolved_at, before.updated_at, before.acknowledged_at)
    with pytest.raises(DutyActionError) as refused:
        duty_service.acknowledge(runtime, case_id, who=LI, at=NOW)
    assert refused.value.code == "not_allowed"
    assert _audit(runtime) == [], "a refused action leaves no audit entry"
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
    duty_service.assign(runtime, case_id, who=LI, center_id=target.center_id, department_id=target.department_id,
                        at=NOW - hours(1))
    with pytest.raises(DutyActionError) as refused:
        duty_service.supervise(runtime, case_id, who=LI, note="  ", at=NOW)
    assert refused.value.code == "note_required"
    duty_service.supervise(runtime, case_id, who=LI, note="请今日内联系当事人", at=NOW)
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None and detail.supervised and detail.status == "received"
    assert detail.center is not None
    assert _events(runtime, case_id)[1:] == [("assign", "李值班", ""), ("supervise", "李值班", "请今日内联系当事人")]
    with pytest.raises(DutyActionError):
        duty_service.assign(runtime, 10**9, who=LI, center_id=target.center_id, department_id=None)
    assert [a[1] for a in _audit(runtime)] == ["assign", "supervise"]


def test_assign_only_to_a_place_the_console_offers_for_the_case(runtime: Runtime, county: str) -> None:
    """An unknown centre, a department under another centre or another village's centre is refused
    with the console's message, and nothing is written (no foreign-key error, no event, no audit)."""
    case_id = _case(runtime)
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None
    with runtime.sessions() as session:
        offered = duty_queries.assignees(session, county, township=detail.township_code, village=detail.village_code)
    assert offered and all(type(a) is Assignee for a in offered), "plain domain values for the builders"
    assert duty_service.assignees(runtime, detail) == offered, "the console offers what it accepts"
    assert duty_service.assignees(runtime, None) == []
    department = next(a for a in offered if a.department_id is not None)
    village_centre = next(a for a in offered if a.tier == "village")
    for center_id, department_id in ((10**6, None), (village_centre.center_id, department.department_id),
                                     (department.center_id, 10**6)):
        with pytest.raises(DutyActionError) as refused:
            duty_service.assign(runtime, case_id, who=LI, center_id=center_id, department_id=department_id, at=NOW)
        assert refused.value.code == "pick_assignee"
    assert _events(runtime, case_id)[1:] == [] and _audit(runtime) == []


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
    duty_service.acknowledge(runtime, old_red, who=LI, at=NOW)
    with runtime.sessions() as session:
        unacked = duty_queries.alert_queue(session, county, levels=("red",), unacknowledged_only=True)
    assert [row.id for row in unacked] == [new_red]
    with runtime.sessions() as session:
        head = duty_queries.alert_queue(session, county, levels=("red", "orange", "yellow", "blue"), limit=1)
        assert [row.id for row in head] == [old_red], "the head keeps the queue's order"
        stored = cases.get(session, old_red)
        assert stored is not None
        township, village = session.get(Township, stored.township_code), session.get(Village, stored.village_code)
        assert township is not None and village is not None
        assert head[0] == QueueRow(
            id=old_red, level="red", reasons=stored.alert_reasons, received_at=NOW - hours(9), due_at=stored.due_at,
            status=stored.status, tier=stored.tier, category=stored.category, people_involved=50,
            township=township.name, village=village.name, supervised=False, acknowledged_at=NOW,
            acknowledged_by="李值班"), "every field of the row comes from its own column"
        assert duty_queries.count_alerts(session, county, levels=("red", "orange", "yellow", "blue")) == len(ids)
        assert duty_queries.count_alerts(session, county, levels=("red",), unacknowledged_only=True) == 1


def test_the_console_reads_its_queue_through_the_service(runtime: Runtime, county: str) -> None:
    """Each filter of the console's URL: its head in the queue's order, its length, every open red case."""
    old_blue = runtime.cases.submit(draft(1, NOW - timedelta(days=3)), actor="窗口", now=NOW)[0].id
    new_red = runtime.cases.submit(draft(2, NOW - hours(1), people_involved=50), actor="窗口", now=NOW)[0].id
    old_red = runtime.cases.submit(draft(3, NOW - hours(9), people_involved=50), actor="窗口", now=NOW)[0].id
    duty_service.acknowledge(runtime, old_red, who=LI, at=NOW)
    everything = duty_service.queue(runtime, "all")
    assert [row.id for row in everything.rows][:2] == [old_red, new_red] and old_blue in [r.id for r in everything.rows]
    assert all(isinstance(row, QueueRow) for row in everything.rows), "plain domain values for the builders"
    assert everything.total == len(everything.rows) and everything.red_ids == sorted([new_red, old_red])
    high = duty_service.queue(runtime, "high", limit=1)
    assert [row.id for row in high.rows] == [old_red] and high.total == 2, "the head, and how many the filter holds"
    unacked = duty_service.queue(runtime, "unacknowledged")
    assert old_red not in [row.id for row in unacked.rows] and new_red in [row.id for row in unacked.rows]
    assert unacked.red_ids == everything.red_ids, "the red ids do not depend on the filter"


def test_handover_notes_are_kept_newest_first(runtime: Runtime, county: str) -> None:
    night, morning = Actor("夜班", "duty_officer"), Actor("早班", "duty_officer")
    duty_service.add_handover_note(runtime, who=night, text="吉舒街道红色预警待回访", at=NOW - hours(2))
    duty_service.add_handover_note(runtime, who=morning, text="已联系", at=NOW)
    with pytest.raises(DutyActionError):
        duty_service.add_handover_note(runtime, who=morning, text="   ")
    with pytest.raises(DutyActionError):
        duty_service.add_handover_note(runtime, who=morning, text="长" * 2001)
    newest_first = [HandoverNote("早班", NOW, "已联系"), HandoverNote("夜班", NOW - hours(2), "吉舒街道红色预警待回访")]
    with runtime.sessions() as session:
        assert duty_queries.handover_notes(session, county) == newest_first
        assert duty_queries.handover_notes(session, county, limit=1) == newest_first[:1]
        note_ids = list(session.scalars(select(HandoverNoteRecord.id).order_by(HandoverNoteRecord.id)))
    assert duty_service.handover_notes(runtime) == newest_first
    assert _audit(runtime) == [("夜班", "handover_note", f"note:{note_ids[0]}"),
                               ("早班", "handover_note", f"note:{note_ids[1]}")], "each note audited under its own id"


def test_unknown_case_is_not_shown(runtime: Runtime, county: str) -> None:
    assert duty_service.case_detail(runtime, 424242) is None


def test_personal_data_is_masked_until_revealed_and_the_reveal_is_audited(runtime: Runtime, county: str) -> None:
    case, _ = submit(runtime, draft(7, NOW - hours(3)), PartyDetails("张三丰", "13812345678", "220283199001011234",
                                                                    "吉林省舒兰市北城街道幸福路12号"), actor="窗口", now=NOW)
    detail = duty_service.case_detail(runtime, case.id)
    assert detail is not None and "张三丰" not in str(detail) and "13812345678" not in str(detail)
    assert detail.party.party_phone == "138****5678"
    shown = duty_service.reveal(runtime, case.id, who=LI)
    assert shown.party_name == "张三丰" and shown.party_phone == "13812345678"
    assert _audit(runtime)[-1] == ("李值班", "reveal", f"case:{case.id}")


def test_an_officer_held_to_another_area_gets_nothing_and_acts_on_nothing(runtime: Runtime, county: str) -> None:
    case_id = _case(runtime, people_involved=40)
    duty_service.add_handover_note(runtime, who=LI, text="红色预警待回访", at=NOW)
    outsider = Actor("邻县值班", "duty_officer")
    with acting_as(Principal("邻县值班", Role.duty_officer, area="990202")):
        assert duty_service.queue(runtime) == duty_service.DutyQueue([], 0, [])
        assert duty_service.case_detail(runtime, case_id) is None
        assert duty_service.handover_notes(runtime) == []
        refusals = [lambda: duty_service.acknowledge(runtime, case_id, who=outsider),
                    lambda: duty_service.supervise(runtime, case_id, who=outsider, note="越界督办"),
                    lambda: duty_service.reveal(runtime, case_id, who=outsider),
                    lambda: duty_service.add_handover_note(runtime, who=outsider, text="越界的交接")]
        for refused in refusals:
            with pytest.raises(DutyActionError) as error:
                refused()
            assert error.value.code == "not_found"
    assert [e[0] for e in _events(runtime, case_id)] == ["receive"]
    assert [a[1] for a in _audit(runtime)] == ["handover_note"], "nothing was acted on, revealed or noted"
    for area in (county, county[:4] + "00", county[:2] + "0000"):  # the county, its city, its province
        with acting_as(Principal("本县值班", Role.duty_officer, area=area)):
            assert duty_service.queue(runtime).red_ids == [case_id], area
            assert duty_service.case_detail(runtime, case_id) is not None
