"""What one case counts for: the figure bits every aggregate is built from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from dashboard.domain.contributions import FIGURES, figure_bits

DUE = datetime(2026, 3, 20, tzinfo=UTC)


def _row(resolved: datetime | None = None, tier: str | None = None, satisfaction: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(resolved_at=resolved, due_at=DUE, resolved_tier=tier, satisfaction=satisfaction)


@pytest.mark.parametrize(("row", "figures"), [
    (_row(), {"received"}),
    (_row(DUE, "village"), {"received", "closed", "closed_on_time", "closed_village"}),
    (_row(DUE + timedelta(seconds=1), "township"), {"received", "closed", "closed_township"}),
    (_row(DUE - timedelta(days=3), "county", "satisfied"),
     {"received", "closed", "closed_on_time", "closed_county", "followed_up", "satisfied"}),
    (_row(DUE + timedelta(days=3), "village", "dissatisfied"), {"received", "closed", "closed_village", "followed_up"}),
])
def test_a_case_counts_for_exactly_its_figures(row: SimpleNamespace, figures: set[str]) -> None:
    bits = figure_bits(row)  # type: ignore[arg-type]
    assert {name for i, name in enumerate(FIGURES) if bits >> i & 1} == figures
