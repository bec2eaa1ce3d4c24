"""What the duty officer's console shows, as plain values: a row of the alert queue, the chosen
case's detail (personal data masked) with its timeline, the places a case can be assigned to, and
the shift handover notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.masking import PartyDetails

QUEUE_FILTERS = ("all", "high", "unacknowledged")
"""The queue's filters, as the console's URL names them (``?queue=high``)."""


@dataclass(frozen=True)
class QueueRow:
    """One open alert in the queue: place, type and level; no person."""

    id: int
    level: str
    reasons: str
    """Comma-separated reason codes."""
    received_at: datetime
    due_at: datetime
    status: str
    tier: str
    category: str
    people_involved: int
    township: str
    village: str
    supervised: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class DutyQueue:
    """The head of the queue for one filter, how many the whole queue holds, and every open red
    case (the console flashes and sounds when a new one appears)."""

    rows: list[QueueRow]
    total: int
    red_ids: list[int]


@dataclass(frozen=True)
class Assignee:
    """A centre, or a department stationed in one, that a case can be assigned to."""

    center_id: int
    department_id: int | None
    name: str
    tier: str


@dataclass(frozen=True)
class HandoverNote:
    """What one duty shift tells the next (交接班)."""

    author: str
    at: datetime
    text: str


TimelineEvent = tuple[datetime, str, str, str | None, str, str]
"""(at, actor, action, from status, to status, note) of one event in a case's life."""


@dataclass(frozen=True)
class CaseDetail:
    case_id: int
    status: str
    tier: str
    category: str
    source: str
    level: str | None
    reasons: tuple[str, ...]
    people_involved: int
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    township_code: str
    village_code: str
    grid_code: str
    supervised: bool
    escalated: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    center: str | None
    department: str | None
    first_receiver: str
    party: PartyDetails
    """Masked: the console shows 张* and 138****1234 until the officer reveals (audited)."""
    events: list[TimelineEvent]
    """Oldest first; personal data in a note is masked too."""
