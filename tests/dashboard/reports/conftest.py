"""Report tests share the merged report fonts: built once (into the checkout's var/fonts, where
``make run`` keeps them too) instead of once per test's var directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.reports.fonts import SHARED_CACHE, font_files


@pytest.fixture(scope="session", autouse=True)
def report_fonts() -> Iterator[list[Path]]:
    yield font_files(SHARED_CACHE)
