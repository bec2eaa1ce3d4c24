"""One matter across channels on real servers: candidates found in the write path, repeat
callers flagged, merge / unmerge / dismiss / undismiss audited, and the figures equal to SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.cases import matters as matter_service
from dashboard.cases.matters import MatterActionError
from dashboard.cases.personal_data import Actor, clean_party
from dashboard.domain.periods import Period
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import area_figures
from data_access import figure_queries, matters, panel_queries
from data_access.models import AuditEntry, Case, MatterSuggestion, PartyKey
from tests.data_access.test_write_path import NOW
from tests.factories import GRID_CODES, draft, hours

from dashboard.domain.vocabulary import Category, Source

LI = Actor("李值班", "duty_officer", "10.0.0.8")
TEXT_A = "东村张家与李家因宅基地边界发生争执，双方多次争吵，要求村委会调解"
TEXT_B = "李家反映邻居张家占用其宅基地，边界纠纷多次争吵未果，请求调解"
TEXT_OTHER = "某小区物业公司收取停车费不合理，业主集体投诉"


def _submit(rt: Runtime, n: int, at: datetime, *, phone: str | None = None, **facts: object) -> Case:
    party = clean_party(party_name="张三", party_phone=phone) if phone else None
    case, _ = rt.cases.submit(draft(n, at, **facts), actor="窗口", now=NOW, party=party)
    return case


def _audit(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [(a.action, a.target) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_reworded_report_from_another_channel_is_suggested_with_reasons(runtime: Runtime, county: str) -> None:
    grid = GRID_CODES[0]
    first = _submit(runtime, 1, NOW - hours(30), grid_code=grid, category=Category.land, description=TEXT_A,
                    source=Source.grid_report)
    unrelated = _submit(runtime, 2, NOW - hours(20), grid_code=grid, category=Category.property_mgmt,
                        description=TEXT_OTHER)
    second = _submit(runtime, 3, NOW - hours(2), grid_code=grid, category=Category.neighbour, description=TEXT_B,
                     source=Source.hotline_12345)
    panel = matter_service.panel(runtime, second.id)
    assert panel is not None
    assert [c.case.case_id for c in panel.candidates] == [first.id], "the look-alike of another type is no candidate"
    codes = [code for code, _ in panel.candidates[0].reasons]
    assert {"same_village", "related_category", "similar_text", "days_apart"} <= set(codes)
    assert panel.candidates[0].score >= runtime.rules.matters.min_score
    # the older case sees the same suggestion
    assert [c.case.case_id for c in matter_service.panel(runtime, first.id).candidates] == [second.id]
    assert matter_service.panel(runtime, unrelated.id).candidates == ()


def test_nothing_is_suggested_across_villages_or_after_the_window(runtime: Runtime, county: str) -> None:
    _submit(runtime, 1, NOW - timedelta(days=9), grid_code=GRID_CODES[0], category=Category.land, description=TEXT_A)
    _submit(runtime, 2, NOW - hours(3), grid_code=GRID_CODES[4], category=Category.land, description=TEXT_A)
    late = _submit(runtime, 3, NOW - hours(2), grid_code=GRID_CODES[0], category=Category.land, description=TEXT_B)
    with runtime.sessions() as session:
        assert session.scalars(select(MatterSuggestion)).all() == []
    assert matter_service.panel(runtime, late.id).candidates == ()


def test_repeat_caller_gets_the_repeat_petition_fact_and_the_number_is_never_stored(runtime: Runtime,
                                                                                    county: str) -> None:
    n = runtime.rules.matters.repeat_caller_cases
    ids = [_submit(runtime, i, NOW - timedelta(days=20 * (n - i)), phone="+86 138-0013-8000",
                   grid_code=GRID_CODES[i % 8], category=list(Category)[i]).id for i in range(n)]
    with runtime.sessions() as session:
        rows = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
        keys = session.scalars(select(PartyKey.key)).all()
    assert [rows[i].repeat_petition for i in ids] == [False] * (n - 1) + [True]
    assert "repeat_petition" in rows[ids[-1]].alert_reasons.split(",") and rows[ids[-1]].alert_level == "orange"
    assert len(set(keys)) == 1 and all("13800138000" not in k for k in keys)
    panel = matter_service.panel(runtime, ids[-1])
    assert panel.repeat_caller and panel.repeat_calls == n
    # the same fact reached the aggregates: the open orange counter of the county sees it
    figures = area_figures(runtime.redis, county, county, Period(NOW.date(), NOW.date()), now=NOW, rules=runtime.rules)
    assert figures.now.open == n


def test_a_caller_under_the_threshold_is_not_flagged(runtime: Runtime, county: str) -> None:
    n = runtime.rules.matters.repeat_caller_cases
    ids = [_submit(runtime, i, NOW - timedelta(days=100 * i + 1), phone="13800138000").id for i in range(n)]
    with runtime.sessions() as session:
        assert not any(session.scalars(select(Case.repeat_petition).where(Case.id.in_(ids))))


def _repeats_equal_sql(rt: Runtime, county: str, start: datetime, end: datetime) -> tuple[int, int]:
    with rt.sessions() as session:
        received = figure_queries.period_counts(session, county_code=county, start=start, end=end).received
        repeats = matters.repeats(session, county_code=county, start=start, end=end)
        plain = matters.matters_sql(session, county_code=county, start=start, end=end)
        for level, code in (("township", GRID_CODES[0][:9]), ("village", GRID_CODES[0][:12])):
            area_received = figure_queries.period_counts(session, county_code=county, start=start, end=end,
                                                         area=(level, code)).received
            assert area_received - matters.repeats(session, county_code=county, start=start, end=end,
                                                   area=(level, code)) == matters.matters_sql(
                session, county_code=county, start=start, end=end, area=(level, code))
    assert received - repeats == plain
    return received, plain


def test_merge_and_unmerge_are_audited_and_the_figures_equal_sql(runtime: Runtime, county: str) -> None:
    grid = GRID_CODES[0]
    a = _submit(runtime, 1, NOW - hours(30), grid_code=grid, category=Category.land, description=TEXT_A)
    b = _submit(runtime, 2, NOW - hours(3), grid_code=grid, category=Category.neighbour, description=TEXT_B,
                people_involved=12)
    c = _submit(runtime, 3, NOW - hours(2), grid_code=GRID_CODES[1], category=Category.land, description=TEXT_A)
    start, end = NOW - timedelta(days=3), NOW + hours(1)
    assert _repeats_equal_sql(runtime, county, start, end) == (3, 3)

    matter_id = matter_service.merge(runtime, a.id, b.id, who=LI)
    assert _repeats_equal_sql(runtime, county, start, end) == (3, 2)
    matter_service.merge(runtime, c.id, a.id, who=LI)
    assert _repeats_equal_sql(runtime, county, start, end) == (3, 1)
    panel = matter_service.panel(runtime, a.id)
    assert panel.matter_id == matter_id and {m.case_id for m in panel.members} == {a.id, b.id, c.id}
    assert panel.lead_case_id == b.id, "the orange case (12 people) leads the matter"
    with pytest.raises(MatterActionError):
        matter_service.merge(runtime, a.id, c.id, who=LI)

    # a period that holds one member only counts that matter once, and no repeat
    one_day = NOW - hours(30) - hours(1), NOW - hours(20)
    assert _repeats_equal_sql(runtime, county, *one_day) == (1, 1)

    matter_service.unmerge(runtime, c.id, who=LI)
    assert _repeats_equal_sql(runtime, county, start, end) == (3, 2)
    matter_service.unmerge(runtime, b.id, who=LI)
    assert _repeats_equal_sql(runtime, county, start, end) == (3, 3)
    assert matter_service.panel(runtime, a.id).matter_id is None, "a matter left with one case is dissolved"
    assert [action for action, _ in _audit(runtime)] == ["matter_merge", "matter_merge", "matter_unmerge",
                                                         "matter_unmerge"]
    with runtime.sessions() as session:
        assert session.get(Case, a.id).events and session.get(Case, b.id).events, "every case keeps its own log"


def test_dismiss_and_undismiss(runtime: Runtime, county: str) -> None:
    grid = GRID_CODES[0]
    a = _submit(runtime, 1, NOW - hours(30), grid_code=grid, category=Category.land, description=TEXT_A)
    b = _submit(runtime, 2, NOW - hours(3), grid_code=grid, category=Category.land, description=TEXT_B)
    matter_service.dismiss(runtime, b.id, a.id, who=LI)
    assert [c.state for c in matter_service.panel(runtime, b.id).candidates] == ["dismissed"]
    with pytest.raises(MatterActionError):
        matter_service.dismiss(runtime, b.id, a.id, who=LI)
    matter_service.undismiss(runtime, a.id, b.id, who=LI)
    assert [c.state for c in matter_service.panel(runtime, b.id).open_candidates] == ["open"]
    assert [action for action, _ in _audit(runtime)] == ["matter_dismiss", "matter_undismiss"]


def test_the_wall_ticker_and_red_list_show_a_matter_once(runtime: Runtime, county: str) -> None:
    grid = GRID_CODES[0]
    a = _submit(runtime, 1, NOW - hours(30), grid_code=grid, category=Category.land, description=TEXT_A,
                people_involved=40)
    b = _submit(runtime, 2, NOW - hours(3), grid_code=grid, category=Category.land, description=TEXT_B,
                people_involved=35)
    with runtime.sessions() as session:
        assert {r.case_id for r in panel_queries.newest_alerts(session, county)} == {a.id, b.id}
        assert sum(panel_queries.red_by_area(session, county, "township").values()) == 2
    matter_service.merge(runtime, b.id, a.id, who=LI)
    with runtime.sessions() as session:
        assert [r.case_id for r in panel_queries.newest_alerts(session, county)] == [a.id]
        assert sum(panel_queries.red_by_area(session, county, "township").values()) == 1
    matter_service.unmerge(runtime, b.id, who=LI)
    with runtime.sessions() as session:
        assert {r.case_id for r in panel_queries.newest_alerts(session, county)} == {a.id, b.id}


def test_a_case_of_another_county_cannot_be_merged(runtime: Runtime, county: str) -> None:
    a = _submit(runtime, 1, NOW - hours(3))
    with pytest.raises(MatterActionError):
        matter_service.merge(runtime, a.id, a.id + 999, who=LI)
    with pytest.raises(MatterActionError):
        matter_service.merge(runtime, a.id, a.id, who=LI)


def test_a_located_report_across_the_village_line_is_near(runtime: Runtime, county: str) -> None:
    west = _submit(runtime, 1, NOW - hours(30), grid_code=GRID_CODES[0], category=Category.land, description=TEXT_A,
                   lon=127.199, lat=44.05)
    east = _submit(runtime, 2, NOW - hours(2), grid_code=GRID_CODES[2], category=Category.land, description=TEXT_B,
                   lon=127.201, lat=44.05)
    far = _submit(runtime, 3, NOW - hours(1), grid_code=GRID_CODES[4], category=Category.land, description=TEXT_B,
                  lon=127.41, lat=44.05)
    assert west.village_code != east.village_code
    candidates = matter_service.panel(runtime, east.id).candidates
    assert [c.case.case_id for c in candidates] == [west.id]
    assert ("nearby", 160) in candidates[0].reasons and "same_village" not in dict(candidates[0].reasons)
    assert matter_service.panel(runtime, far.id).candidates == (), "16 km away in another village"


def test_the_same_party_is_a_candidate_wherever_the_case_was_reported(runtime: Runtime, county: str) -> None:
    first = _submit(runtime, 1, NOW - timedelta(days=12), phone="138 0013 8000", grid_code=GRID_CODES[0],
                    category=Category.labour_wages, description="包工头拖欠工资三个月")
    again = _submit(runtime, 2, NOW - hours(2), phone="+8613800138000", grid_code=GRID_CODES[7],
                    category=Category.labour_wages, description="讨要被拖欠的工资")
    stranger = _submit(runtime, 3, NOW - hours(1), phone="13900000000", grid_code=GRID_CODES[7],
                       category=Category.debt, description="借款到期不还")
    candidates = matter_service.panel(runtime, again.id).candidates
    assert [c.case.case_id for c in candidates] == [first.id]
    assert candidates[0].reasons[0] == ("same_party", None)
    assert first.id not in [c.case.case_id for c in matter_service.panel(runtime, stranger.id).candidates]
