"""Times as ledgers write them, read as Asia/Shanghai local time.

Accepted shapes (full-width digits and punctuation fold to half-width first):
``2025/3/5 9:30``, ``2025-03-05 09:30:00``, ``2025年3月5日 9:30`` (also ``9时30分``), ``2025.3.5``,
a date alone in any of these shapes, an ISO 8601 time with or without an offset
(``2025-03-05T09:30:00+08:00``), and an Excel date cell (which the reader writes as ISO text
without an offset). A time without an offset is Asia/Shanghai local time. A date alone means the
start of the day (00:00) for a receipt and its last minute (23:59) for a resolution: a case
resolved "on 5 March" was resolved by the end of that day, never before it was received that day.
Only days from ``periods.FIRST_DAY`` to ``periods.LAST_DAY`` are accepted.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time

from dashboard.domain.periods import FIRST_DAY, LAST_DAY, LOCAL_TZ

SHAPES = "2025/3/5 9:30, 2025-03-05 09:30:00, 2025年3月5日 9:30, or a date alone"
_LOCAL = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*)(?P<H>\d{1,2})\s*[:时點点]\s*(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:]?\s*(?P<S>\d{1,2})(?:\.\d{1,6})?\s*秒?)?)?$"
)
END_OF_DAY = time(23, 59)


class TimeTextError(ValueError):
    """Text that is no time a ledger may hold; the message says what would be accepted."""


def ledger_time(text: str, *, end_of_day: bool = False) -> datetime:
    """The UTC instant ``text`` names; a date alone is 00:00, or 23:59 when ``end_of_day``."""
    value = text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()
    match = None if value[10:11] == "T" else _LOCAL.match(value)  # ISO 8601 with a T goes straight on
    if match:
        try:
            day = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise TimeTextError(f"no such day ({value})") from None
        if match["H"] is None:
            clock = END_OF_DAY if end_of_day else time()
        else:
            try:
                clock = time(int(match["H"]), int(match["M"]), int(match["S"] or 0))
            except ValueError:
                raise TimeTextError(f"no such time of day ({value})") from None
        local = datetime.combine(day, clock)
    else:
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            raise TimeTextError(f"not a time; write {SHAPES}") from None
    if not FIRST_DAY <= local.date() <= LAST_DAY:
        raise TimeTextError(f"must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    if local.tzinfo is None:
        local = local.replace(tzinfo=LOCAL_TZ)
    return local.astimezone(UTC)
