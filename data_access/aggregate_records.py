"""The packed layout of the Redis aggregates, shared by the apply, read and rebuild modules.

Every area gets a small integer index, and counters live in packed big-endian int32 strings
addressed by that index, updated with ``BITFIELD INCRBY``:

- per local day, the 8 period figures of every area, and the category/source breakdowns;
- the open-case counters of every area (open, red, each fact reason);
- per grid, sorted sets of its open cases' deadlines, so overdue, overdue 7+ days and due within
  24 h at any ``now`` are three ``ZCOUNT``s, rolled up to village, township and county;
- per case, a 12-byte record of the contribution last applied (day, areas, category, source,
  figure bits, fact reasons), so an update applied twice counts once.

Keys are named in ``redis_keys``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from dashboard.domain.contributions import BREAKDOWNS, FACT_CODES, FIGURES, OPEN_SLOTS
from dashboard.domain.vocabulary import AlertLevel
from data_access import redis_keys as keys

N_FIGURES, N_BREAKDOWNS, N_OPEN = len(FIGURES), len(BREAKDOWNS), len(OPEN_SLOTS)
CLOSED_BIT = 1 << FIGURES.index("closed")
RED_MASK = sum(1 << i for i, (level, _) in enumerate(FACT_CODES) if level is AlertLevel.red)
WARN_BIT = 0x80
RECORD = struct.Struct(">HHHHBBBB")
"""day number, township, village, grid index, category, source, figure bits, reason bits (bit 7: warns early)."""
RECORD_DTYPE = np.dtype([("day", ">u2"), ("township", ">u2"), ("village", ">u2"), ("grid", ">u2"),
                         ("category", "u1"), ("source", "u1"), ("flags", "u1"), ("reasons", "u1")])
PACKED = np.dtype(">i4")
MAX_AREAS = 0xFFFF


@dataclass(frozen=True, slots=True)
class Record:
    """The packed form of a contribution, with areas as indexes."""

    day: int
    township: int
    village: int
    grid: int
    category: int
    source: int
    flags: int
    reasons: int
    warn: bool

    @property
    def is_open(self) -> bool:
        return not self.flags & CLOSED_BIT

    def pack(self) -> bytes:
        return RECORD.pack(self.day, self.township, self.village, self.grid, self.category, self.source, self.flags,
                           self.reasons | (WARN_BIT if self.warn else 0))

    @classmethod
    def unpack(cls, raw: bytes) -> Record | None:
        if len(raw) < RECORD.size or not any(raw):
            return None
        day, township, village, grid, category, source, flags, reasons = RECORD.unpack(raw[: RECORD.size])
        return cls(day, township, village, grid, category, source, flags, reasons & ~WARN_BIT, bool(reasons & WARN_BIT))


def record_slot(county: str, case_id: int) -> tuple[str, int]:
    """The record string holding ``case_id``'s record, and the record's byte offset in it."""
    return keys.record(county, case_id), (case_id % keys.RECORD_BUCKET) * RECORD.size
