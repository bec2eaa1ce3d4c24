"""The audit log's hash chain: how one entry's hash is computed from its fields and the hash before it.

Each entry stores ``prev_hash`` (the hash of the entry before it in id order, :data:`GENESIS` for
the first) and ``hash`` = SHA-256 over :func:`canonical` of its fields and ``prev_hash``. Changing
an entry's fields changes its hash; deleting or inserting an entry breaks the link of the one after
it. The canonical form is a JSON array (UTF-8, no whitespace, fields in a fixed order, the time in
UTC to the microsecond): the same bytes on every host, database and Python version, so
``python -m dashboard audit verify`` recomputes exactly what the writer computed.

What it does not do: someone who can write the database *and* recompute every later hash can
rewrite the tail. The head hash printed by ``audit verify`` is what an operator writes down (or
sends elsewhere) to pin the log up to that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
"""``prev_hash`` of the first entry of a chain."""


@dataclass(frozen=True)
class ChainedFields:
    """What the hash covers: everything an entry says, as it is stored."""

    at: datetime
    actor: str
    role: str
    action: str
    target: str
    detail: str
    ip: str | None


def stamp(at: datetime) -> str:
    """The entry's time in the canonical form: UTC, microseconds, ``Z``."""
    if at.tzinfo is None:
        raise ValueError("an audit time must carry its zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: ChainedFields, prev_hash: str) -> bytes:
    """The bytes hashed for one entry."""
    values = [1, prev_hash, stamp(fields.at), fields.actor, fields.role, fields.action, fields.target,
              fields.detail, fields.ip]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(fields: ChainedFields, prev_hash: str) -> str:
    """SHA-256 (hex) of :func:`canonical`."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first entry whose hash or link does not hold, and why."""

    entry_id: int
    reason: str
    """``altered`` (its fields no longer give its hash), ``link`` (its ``prev_hash`` is not the hash of
    the entry before it: one was deleted or inserted), ``unchained`` (no hash at all: written past
    the log's own code) or ``head`` (the last entry is not the one the chain head names: entries at
    the end were deleted)."""

    def describe(self) -> str:
        return {
            "altered": f"entry #{self.entry_id} was changed after it was written (its hash does not match)",
            "link": f"entry #{self.entry_id} does not follow the entry before it (an entry was deleted or inserted)",
            "unchained": f"entry #{self.entry_id} carries no hash (written past the audit log)",
            "head": f"the chain head names entry #{self.entry_id}, which is not the last entry (entries were deleted "
                    "or added at the end)",
        }.get(self.reason, f"entry #{self.entry_id}: {self.reason}")


def first_break(entries: Iterable[tuple[int, ChainedFields, str | None, str | None]], *, head_id: int | None = None, head_hash: str | None = None) -> tuple[ChainBreak | None, int, str]:
    """Walk ``entries`` (an iterable of ``(id, ChainedFields, prev_hash, hash)`` in id order):
    (the first break or ``None``, entries checked, the hash of the last one).

    ``head_id``/``head_hash``, when given, are what the chain head row says the last entry is."""
    previous = GENESIS
    checked = 0
    last_id: int | None = None
    for entry_id, fields, prev_hash, stored in entries:
        checked += 1
        if not stored or not prev_hash:
            return ChainBreak(entry_id, "unchained"), checked, previous
        if prev_hash != previous:
            return ChainBreak(entry_id, "link"), checked, previous
        if entry_hash(fields, prev_hash) != stored:
            return ChainBreak(entry_id, "altered"), checked, previous
        previous = stored
        last_id = entry_id
    if head_id is not None and (head_id != (last_id or 0) or (head_hash or GENESIS) != previous):
        return ChainBreak(head_id, "head"), checked, previous
    return None, checked, previous
