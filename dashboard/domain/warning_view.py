"""A warning as screens, the console and the API show it: plain values, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WarningView:
    id: int
    area_code: str
    area_level: str
    category: str
    window_days: int
    observed: int
    expected: float
    p_value: float
    reason_zh: str
    reason_en: str
    first_seen: datetime
    last_seen: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    def reason(self, lang: str) -> str:
        return self.reason_en if lang == "en" else self.reason_zh

    def as_json(self) -> dict[str, object]:
        """What ``GET /api/warnings`` returns for one warning."""
        return {
            "id": self.id, "area": self.area_code, "area_level": self.area_level, "category": self.category,
            "window_days": self.window_days, "observed": self.observed, "expected": float(f"{self.expected:.3g}"),
            "p_value": self.p_value, "reason_zh": self.reason_zh, "reason_en": self.reason_en,
            "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
        }


WALL_ROWS = 3
"""Warnings the wall lists (least probable first); the count above them says how many there are."""
