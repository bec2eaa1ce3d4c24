"""A warning's reason in words and numbers (DESIGN.md "Early warning"), in Chinese and English:
"土地山林 · 平安镇 · 近3日9件，预期2.1件（同期均值），p<0.001"."""

from __future__ import annotations

from dashboard.domain.labels import label


def p_text(p: float) -> str:
    """``p<0.001`` below a thousandth, else three significant figures."""
    return "p<0.001" if p < 0.001 else f"p={p:.3g}"


def expected_text(expected: float) -> str:
    """One decimal (2.1); below a tenth, "<0.1": an area that almost never sees this kind of case."""
    return "<0.1" if expected < 0.05 else f"{expected:.1f}"


def reason_text(*, category: str, place: str, window: int, observed: int, expected: float, p: float, lang: str) -> str:
    """One line a duty officer can read aloud; place names stay as officially written."""
    name = label(f"category.{category}", lang)
    if lang == "en":
        days = "today" if window == 1 else f"in the last {window} days"
        return f"{name} · {place} · {observed} cases {days}, {expected_text(expected)} expected (seasonal baseline), {p_text(p)}"
    return f"{name} · {place} · 近{window}日{observed}件，预期{expected_text(expected)}件（同期均值），{p_text(p)}"
