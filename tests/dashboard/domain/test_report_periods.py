"""Report periods, issue years, the schedule's due periods and the report's words (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import LOCAL_TZ, Period
from dashboard.domain.report_content import LeagueRow, ReportContent
from dashboard.domain.report_periods import (
    KindSchedule, ReportKind, ReportPeriodError, ReportSchedule, containing, parse_period, period_name, report_year,
    schedule_from_mapping,
)
from dashboard.domain.report_text import count_change_text, key_figures, rate_change_text, summary


@pytest.mark.parametrize(("kind", "name", "first", "last"), [
    (ReportKind.daily, "2025-06-02", date(2025, 6, 2), date(2025, 6, 2)),
    (ReportKind.weekly, "2025-W23", date(2025, 6, 2), date(2025, 6, 8)),
    (ReportKind.weekly, "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
    (ReportKind.monthly, "2025-06", date(2025, 6, 1), date(2025, 6, 30)),
    (ReportKind.monthly, "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    (ReportKind.monthly, "2025-12", date(2025, 12, 1), date(2025, 12, 31)),
])
def test_period_names_round_trip(kind: ReportKind, name: str, first: date, last: date) -> None:
    assert parse_period(kind, name) == Period(first, last)
    assert period_name(kind, Period(first, last)) == name
    assert containing(kind, last) == Period(first, last)


def test_a_week_is_numbered_in_its_iso_year() -> None:
    assert report_year(ReportKind.weekly, parse_period(ReportKind.weekly, "2026-W01")) == 2026
    assert report_year(ReportKind.daily, Period(date(2025, 12, 29), date(2025, 12, 29))) == 2025


@pytest.mark.parametrize(("kind", "name"), [
    (ReportKind.daily, "2025-6-2"), (ReportKind.daily, "2025-02-30"), (ReportKind.daily, "1999-12-31"),
    (ReportKind.weekly, "2025-W54"), (ReportKind.weekly, "2025-23"), (ReportKind.monthly, "2025-13"),
    (ReportKind.monthly, "2101-01"), (ReportKind.monthly, "2025-06-01"), (ReportKind.daily, "' OR 1=1"),
])
def test_bad_period_names_are_refused(kind: ReportKind, name: str) -> None:
    with pytest.raises(ReportPeriodError):
        parse_period(kind, name)


def test_due_periods_wait_for_the_configured_time_and_catch_up() -> None:
    daily = KindSchedule(ReportKind.daily, time(7, 30), 3)
    weekly = KindSchedule(ReportKind.weekly, time(8, 0), 1)
    monthly = KindSchedule(ReportKind.monthly, time(8, 30), 1)
    schedule = ReportSchedule((daily, weekly, monthly), ("zh",), 60)
    before = datetime(2025, 6, 9, 7, 29, tzinfo=LOCAL_TZ)  # a Monday, before 07:30
    after = datetime(2025, 6, 9, 7, 31, tzinfo=LOCAL_TZ)
    assert schedule.due_periods(daily, after)[0] == Period(date(2025, 6, 8), date(2025, 6, 8))
    assert schedule.due_periods(daily, before)[0] == Period(date(2025, 6, 7), date(2025, 6, 7))
    assert [p.first.day for p in schedule.due_periods(daily, after)] == [8, 7, 6], "three missed days are made up"
    assert schedule.due_periods(weekly, datetime(2025, 6, 9, 8, 0, tzinfo=LOCAL_TZ)) == [parse_period(ReportKind.weekly, "2025-W23")]
    assert schedule.due_periods(weekly, after) == [parse_period(ReportKind.weekly, "2025-W22")]
    assert schedule.due_periods(monthly, datetime(2025, 7, 1, 0, 31, tzinfo=UTC)) == [parse_period(ReportKind.monthly, "2025-06")]


def test_the_schedule_is_configuration() -> None:
    schedule = schedule_from_mapping({"kinds": ["weekly"], "languages": ["zh", "en"], "weekly": {"at": "09:15"}})
    assert [(k.kind, k.at) for k in schedule.kinds] == [(ReportKind.weekly, time(9, 15))]
    assert schedule.languages == ("zh", "en")
    assert [k.kind for k in schedule_from_mapping(None).kinds] == list(ReportKind), "the issue's defaults"
    for bad in ({"kinds": ["yearly"]}, {"languages": ["fr"]}, {"daily": {"at": "7h"}}, {"interval_seconds": 0}):
        with pytest.raises(ReportPeriodError):
            schedule_from_mapping(bad)


def _content(**changes: object) -> ReportContent:
    base = dict(
        county_code="220283", county_name="舒兰市", area_code="220283", area_name="舒兰市", kind=ReportKind.weekly,
        period=parse_period(ReportKind.weekly, "2025-W23"), period_name="2025-W23", issue=23, lang="zh",
        compiled_at=datetime(2025, 6, 9, 0, 0, tzinfo=UTC), instant_at=parse_period(ReportKind.weekly, "2025-W23").end,
        current=PeriodCounts(received=1200, closed=1100, closed_on_time=1000, followed_up=50, satisfied=45),
        previous=PeriodCounts(received=1000, closed=990, closed_on_time=900, followed_up=40, satisfied=40),
        last_year=PeriodCounts(received=1500, closed=1400, closed_on_time=1400),
        instant=InstantCounts(open=100, overdue=10), instant_previous=InstantCounts(open=80, overdue=10),
        instant_last_year=InstantCounts(), categories={"land": 300, "debt": 100}, sources={}, trend=[],
        league=[LeagueRow("1", "平安镇", PeriodCounts(received=400), 1, 0), LeagueRow("2", "法特镇", PeriodCounts(received=500), 0, 0)],
        alerts=[], alerts_total=5, red_new=2, orange_new=3, overdue_cases=[], overdue_total=10)
    base.update(changes)
    return ReportContent(**base)  # type: ignore[arg-type]


def test_summary_reads_like_a_county_report_from_the_table_figures() -> None:
    text = summary(_content(), "zh")
    assert text.startswith("2025年6月2日至6月8日，舒兰市共受理矛盾纠纷1,200件，环比上升20.0%，同比下降20.0%；"
                           "其中已办结1,100件，办结率91.67%，按期办结率90.91%，回访满意率90.00%。截至6月8日24时，在办100件，其中超期10件。")
    assert "期内新增红色预警2件、橙色预警3件。法特镇、平安镇受理量居前，分别为500件、400件。" in text
    assert text.endswith("从类别看，土地山林最多，300件，占25.00%。")
    rows = {f.key: (f.value, f.mom, f.yoy) for f in key_figures(_content(), "zh")}
    assert rows["received"] == ("1,200", "+20.0%", "-20.0%")
    assert rows["overdue"] == ("10", "+0.0%", "—"), "nothing to compare with is a dash, never infinity"
    assert rows["satisfaction_rate"] == ("90.00%", "-10.00个百分点", "—")
    assert "received 1,200 disputes, up 20.0% on the previous period" in summary(_content(lang="en"), "en")
    assert count_change_text(5, 0) == "—" and rate_change_text(None, 50.0, "en") == "—"
