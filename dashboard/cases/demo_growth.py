"""How far the demo has grown to its city: a small JSON record under ``var/`` that the background
``demo grow-city`` rewrites as it goes and ``/api/status`` shows.

A file rather than a table or a Redis key: it is the demo's own progress on one machine (``make
run``), it must survive the embedded Redis stopping, and it is no figure of any county."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

GROWTH_FILE = "demo_growth.json"


@dataclass
class Growth:
    """The city being grown: counties done of all, the county at work and what it is doing, the
    cases written so far and how long it has taken."""

    city: str
    name: str
    counties_total: int
    counties_done: int = 0
    current: str | None = None
    step: str | None = None
    """``import``, ``backfill`` (with ``days_done``/``days_total``) or ``rebuild``."""
    days_done: int = 0
    days_total: int = 0
    cases_written: int = 0
    seconds: float = 0.0
    finished: bool = False
    failed: list[str] = field(default_factory=list)


def write(var_dir: Path, growth: Growth) -> None:
    """Replace the record atomically (a reader never sees half of it)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / GROWTH_FILE
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(growth), ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def read(var_dir: Path) -> dict[str, object] | None:
    """The last record written, or ``None`` when the demo never grew here (or the file is unreadable)."""
    try:
        value = json.loads((var_dir / GROWTH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
