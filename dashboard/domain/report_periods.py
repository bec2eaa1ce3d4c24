"""The periods of written reports (DESIGN.md "Reports") and when each falls due.

Three kinds: a daily report covers one Asia/Shanghai day, a weekly report Monday to Sunday (an
ISO week), a monthly report one calendar month. A period is named the way an office writes it on
the command line: ``2025-06-02``, ``2025-W23``, ``2025-06``. The schedule (which kinds a county
files and at what local time) is configuration: the ``[reports]`` table of ``rules.toml``, read by
:func:`schedule_from_mapping`; a missing table means the defaults of the issue (daily 07:30,
weekly Monday 08:00, monthly on the 1st at 08:30).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from dashboard.domain.periods import FIRST_DAY, LAST_DAY, LOCAL_TZ, Period


class ReportKind(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class ReportPeriodError(ValueError):
    """A period name that is malformed, out of range or of the wrong kind."""


_PATTERNS = {
    ReportKind.daily: re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    ReportKind.weekly: re.compile(r"(\d{4})-W(\d{2})"),
    ReportKind.monthly: re.compile(r"(\d{4})-(\d{2})"),
}


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def parse_period(kind: ReportKind, text: str) -> Period:
    """The period a name stands for; refused unless it is of ``kind`` and within 2000–2100."""
    match = _PATTERNS[kind].fullmatch(text.strip())
    if match is None:
        example = {"daily": "2025-06-02", "weekly": "2025-W23", "monthly": "2025-06"}[kind.value]
        raise ReportPeriodError(f"a {kind.value} period is written like {example}, not {text!r}")
    numbers = [int(g) for g in match.groups()]
    try:
        if kind is ReportKind.daily:
            day = date(*numbers)
            period = Period(day, day)
        elif kind is ReportKind.weekly:
            monday = date.fromisocalendar(numbers[0], numbers[1], 1)
            period = Period(monday, monday + timedelta(days=6))
        else:
            period = month_period(numbers[0], numbers[1])
    except ValueError as error:
        raise ReportPeriodError(f"{text!r} is not a {kind.value} period: {error}") from None
    if period.first < FIRST_DAY or period.last > LAST_DAY:
        raise ReportPeriodError(f"reports cover {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return period


def period_name(kind: ReportKind, period: Period) -> str:
    """The inverse of :func:`parse_period`."""
    if kind is ReportKind.daily:
        return period.first.isoformat()
    if kind is ReportKind.weekly:
        year, week, _ = period.first.isocalendar()
        return f"{year}-W{week:02d}"
    return period.first.strftime("%Y-%m")


def containing(kind: ReportKind, day: date) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind is ReportKind.daily:
        return Period(day, day)
    if kind is ReportKind.weekly:
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6))
    return month_period(day.year, day.month)


def previous_report_period(kind: ReportKind, period: Period) -> Period:
    return containing(kind, period.first - timedelta(days=1))


def report_year(kind: ReportKind, period: Period) -> int:
    """The year whose issues a report is numbered in (an ISO week belongs to its ISO year)."""
    return period.first.isocalendar()[0] if kind is ReportKind.weekly else period.first.year


@dataclass(frozen=True)
class KindSchedule:
    kind: ReportKind
    at: time
    """Local (Asia/Shanghai) time of day the report falls due, on the day after its period ends
    (the daily and weekly reports) or on the 1st of the next month (monthly)."""
    catch_up: int
    """How many of the latest due periods are made up when missing (the server was down)."""


@dataclass(frozen=True)
class ReportSchedule:
    kinds: tuple[KindSchedule, ...]
    languages: tuple[str, ...]
    interval_seconds: float

    def due_periods(self, kind_schedule: KindSchedule, now: datetime) -> list[Period]:
        """The latest ``catch_up`` periods of the kind whose due time has passed at ``now``, newest first."""
        kind = kind_schedule.kind
        local_now = now.astimezone(LOCAL_TZ)
        period = previous_report_period(kind, containing(kind, local_now.date()))
        if due_at(kind_schedule, period) > now:
            period = previous_report_period(kind, period)
        found = []
        for _ in range(kind_schedule.catch_up):
            found.append(period)
            period = previous_report_period(kind, period)
        return found


def due_at(kind_schedule: KindSchedule, period: Period) -> datetime:
    """When the report of ``period`` falls due: the day after the period, at the configured time."""
    return datetime.combine(period.last + timedelta(days=1), kind_schedule.at, LOCAL_TZ)


DEFAULT_SCHEDULE: dict[str, Any] = {
    "kinds": ["daily", "weekly", "monthly"],
    "languages": ["zh"],
    "interval_seconds": 60,
    "daily": {"at": "07:30", "catch_up": 3},
    "weekly": {"at": "08:00", "catch_up": 1},
    "monthly": {"at": "08:30", "catch_up": 1},
}


def schedule_from_mapping(data: dict[str, Any] | None) -> ReportSchedule:
    """The ``[reports]`` table of the rules file, validated; unknown kinds or bad times are refused."""
    merged = {**DEFAULT_SCHEDULE, **(data or {})}
    try:
        kinds = []
        for name in merged["kinds"]:
            kind = ReportKind(name)
            entry = {**DEFAULT_SCHEDULE[kind.value], **merged.get(kind.value, {})}
            hour, minute = (int(part) for part in str(entry["at"]).split(":"))
            catch_up = int(entry["catch_up"])
            if not 0 <= catch_up <= 31:
                raise ValueError(f"reports.{kind.value}.catch_up must be 0..31")
            kinds.append(KindSchedule(kind, time(hour, minute), catch_up))
        languages = tuple(str(lang) for lang in merged["languages"])
        if not languages or any(lang not in ("zh", "en") for lang in languages):
            raise ValueError("reports.languages holds zh and/or en")
        interval = float(merged["interval_seconds"])
        if interval < 1:
            raise ValueError("reports.interval_seconds must be at least 1")
    except (KeyError, TypeError, ValueError) as error:
        raise ReportPeriodError(f"rules: reports: {error}") from None
    return ReportSchedule(tuple(kinds), languages, interval)
