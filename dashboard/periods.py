"""Calendar days in Asia/Shanghai over timestamps stored in UTC (DESIGN.md "Figures")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dashboard.settings import LOCAL_TZ


def as_utc(moment: datetime) -> datetime:
    """Refuse naive datetimes: a timestamp without an offset is ambiguous by eight hours."""
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


def day_key(day: date) -> str:
    return day.strftime("%Y%m%d")
