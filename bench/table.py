"""A tiny plain-text table: benchmark output must read well in a terminal and paste into Markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """``key`` of each row, the header ``title`` and a ``format`` spec for numbers (e.g. ``",.0f"``)."""

    key: str
    title: str
    format: str = ""


def cell(value: object, spec: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float) or not spec:
        return str(value)
    return format(value, spec)


def render(rows: Sequence[Mapping[str, object]], columns: Sequence[Column], *, markdown: bool = False) -> str:
    """Text columns left-aligned, numbers right-aligned; ``markdown`` draws pipes for docs/benchmarks.md."""
    texts = [[cell(row.get(c.key), c.format) for c in columns] for row in rows]
    numeric = [all(isinstance(row.get(c.key), int | float) or row.get(c.key) is None for row in rows) for c in columns]
    widths = [max([len(c.title), *(len(t[i]) for t in texts)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return f"| {' | '.join(parts)} |" if markdown else "  ".join(parts).rstrip()

    dashes = [("-" * (w + 1) + ":") if num else "-" * (w + 2) for w, num in zip(widths, numeric, strict=True)]
    rule = f"|{'|'.join(dashes)}|" if markdown else "  ".join("-" * w for w in widths)
    return "\n".join([line([c.title for c in columns]), rule, *(line(t) for t in texts)])
