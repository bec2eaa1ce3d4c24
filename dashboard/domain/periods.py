"""Calendar days in Asia/Shanghai over timestamps stored in UTC (DESIGN.md "Figures")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""Every calendar day in the product is a day in this zone."""
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
"""The days the product accepts in a period: a period, its previous one and last year's stay within
what dates can hold, and nothing a county keeps lies outside."""


def as_utc(moment: datetime) -> datetime:
    """Refuse naive datetimes: a timestamp without an offset is ambiguous by eight hours."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no UTC offset")
    return moment.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day a UTC instant falls on."""
    return as_utc(moment).astimezone(LOCAL_TZ).date()


def day_start(day: date) -> datetime:
    """The UTC instant at which an Asia/Shanghai day begins."""
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole local days ``first`` … ``last`` inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"period ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive UTC end."""
        return day_start(self.last + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @classmethod
    def trailing(cls, today: date, days: int) -> Period:
        """The ``days`` local days ending with ``today``."""
        return cls(today - timedelta(days=days - 1), today)


@lru_cache(maxsize=8192)
def day_key(day: date) -> str:
    """``YYYYMMDD``; cached, since bulk writes ask for the same few hundred days 100 k times."""
    return day.strftime("%Y%m%d")


RANGE_NAMES = ("today", "7d", "30d", "ytd", "custom")
"""The time ranges a leader picks on the tablet."""


def named_period(name: str, today: date, *, first: date | None = None, last: date | None = None) -> Period:
    """Today, the last 7 or 30 days, the year to date, or a custom span (refused if reversed or
    in the future, or longer than three years)."""
    if name == "today":
        return Period(today, today)
    if name == "7d":
        return Period.trailing(today, 7)
    if name == "30d":
        return Period.trailing(today, 30)
    if name == "ytd":
        return Period(today.replace(month=1, day=1), today)
    if name == "custom" and first is not None and last is not None:
        if last > today or (last - first).days > 3 * 366:
            raise ValueError("a custom range ends by today and spans at most three years")
        if first < FIRST_DAY:
            raise ValueError(f"a custom range starts on {FIRST_DAY.isoformat()} or later")
        return Period(first, last)
    raise ValueError(f"unknown range {name!r}")
