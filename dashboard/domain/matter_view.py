"""What the duty console shows of one matter (事项) as plain values: the possible duplicates of a
case with their scores and reasons, the matter the case belongs to, and whether its party is a
repeat caller. No person: a repeat caller is told by a count, never by a name or number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CaseBrief:
    """Another case as the console lists it: place, type, source and time; no party."""

    case_id: int
    category: str
    source: str
    village_code: str
    received_at: datetime
    status: str
    level: str | None


@dataclass(frozen=True)
class Candidate:
    case: CaseBrief
    score: float
    reasons: tuple[tuple[str, float | int | None], ...]
    """(code, value) pairs; ``labels.match_reason`` words them."""
    state: str
    """open, dismissed or merged."""
    decided_by: str | None = None


@dataclass(frozen=True)
class MatterPanel:
    case_id: int
    matter_id: int | None
    lead_case_id: int | None
    members: tuple[CaseBrief, ...]
    """Every case of the matter, this one included; empty when the case is its own matter."""
    candidates: tuple[Candidate, ...]
    repeat_calls: int
    """Cases of the same party within the repeat-caller window (0: no phone or ID recorded)."""
    repeat_caller: bool
    repeat_days: int

    @property
    def open_candidates(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.state == "open")
