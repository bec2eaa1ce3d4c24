"""The period a wall follows: its key in the URL of the live API, its days, and the words that
name it on screen."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from dashboard.domain.labels import label
from dashboard.domain.periods import FIRST_DAY, LAST_DAY, Period, named_period

MAX_DAYS = 366 * 3
"""The longest period a wall may follow."""
WALL_RANGES = {"today": 1, "7d": 7, "30d": 30}
"""The tablet's trailing ranges a wall can follow by ``?range=`` (``ytd`` as well), as days."""
_SPAN = re.compile(r"(\d{4}-\d\d-\d\d)_(\d{4}-\d\d-\d\d)")


DATED_PAGES = frozenset({"/", "/screen", "/tablet", "/duty"})
"""The screen pages whose URL may carry dates (``from``, ``to``, ``days``): checked by :func:`query_date_error`."""


def query_date_error(pairs: Iterable[tuple[str, str]]) -> str | None:
    """Why a screen URL's dates are refused (a 422), or ``None``, given its query as (name, value)
    pairs: ``from`` and ``to`` must be ISO dates from ``FIRST_DAY`` to ``LAST_DAY``, ``from`` not
    after ``to``; ``days`` a whole number from 1 to ``MAX_DAYS``; none of them given twice (the
    screen would read one, a check the other). Absent ones are fine: the screen shows its default."""
    given = [(name, value) for name, value in pairs if name in ("from", "to", "days")]
    query: Mapping[str, str] = dict(given)
    if len(query) < len(given):
        return "from, to and days may each be given once"
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if name not in query:
            continue
        try:
            day = date.fromisoformat(query[name]) if re.fullmatch(r"\d{4}-\d\d-\d\d", query[name], re.ASCII) else None
        except ValueError:
            day = None
        if day is None:
            return f"{name} must be a date such as 2026-01-31"
        if not FIRST_DAY <= day <= LAST_DAY:
            return f"{name} must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
        days[name] = day
    if len(days) == 2 and days["from"] > days["to"]:
        return "from lies after to"
    if "days" in query and not (re.fullmatch(r"\d{1,4}", query["days"], re.ASCII) and 1 <= int(query["days"]) <= MAX_DAYS):
        return f"days must be a whole number from 1 to {MAX_DAYS}"
    return None


@dataclass(frozen=True)
class ScreenPeriod:
    """The period a wall's period figures cover: the last ``days`` days, the year to date, or a
    fixed span. Its ``key`` travels in the URL of the live API (``30d``, ``ytd``,
    ``2025-01-01_2025-12-31``); the dates are resolved at each refresh, so a trailing period moves
    on at midnight."""

    days: int = 30
    ytd: bool = False
    span: tuple[date, date] | None = None

    @property
    def key(self) -> str:
        if self.span:
            return f"{self.span[0].isoformat()}_{self.span[1].isoformat()}"
        return "ytd" if self.ytd else f"{self.days}d"

    @classmethod
    def from_key(cls, key: str) -> ScreenPeriod:
        """Raises ``ValueError`` for anything but a key this class writes."""
        if key == "ytd":
            return cls(ytd=True)
        if re.fullmatch(r"\d{1,4}d", key) and 1 <= int(key[:-1]) <= MAX_DAYS:
            return cls(days=int(key[:-1]))
        found = _SPAN.fullmatch(key)
        if found:
            first, last = date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2))
            if FIRST_DAY <= first <= last <= LAST_DAY and (last - first).days <= MAX_DAYS:
                return cls(span=(first, last))
        raise ValueError(f"not a screen period: {key!r}")

    def period(self, today: date) -> Period:
        """The local days covered today; a span must end by today."""
        if self.span:
            return named_period("custom", today, first=self.span[0], last=self.span[1])
        if self.ytd:
            return named_period("ytd", today)
        return Period.trailing(today, self.days)

    def words(self, lang: str) -> dict[str, str]:
        """``{period}`` (short, for titles) and ``{period_long}`` for the labels that name the period."""
        if self.span:
            text = label("span.custom", lang).format(first=self.span[0].isoformat(), last=self.span[1].isoformat())
            return {"period": text, "period_long": text}
        if self.ytd:
            return {"period": label("span.ytd", lang), "period_long": label("span.ytd", lang)}
        if self.days == 1:
            return {"period": label("span.today", lang), "period_long": label("span.today", lang)}
        return {"period": label("span.days", lang).format(days=self.days),
                "period_long": label("span.days_long", lang).format(days=self.days)}
