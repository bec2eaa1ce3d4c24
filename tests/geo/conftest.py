"""Fixtures for the geo tests: the real Shulan inputs, and the county generated from them once
per test session (generation takes several seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.generate import GeneratedCounty, generate_county
from geo.sources import read_outline, read_seat, read_townships, read_villages
from tests.geo.shulan_data import SHULAN_DIR, CountyInputs


@pytest.fixture(scope="session")
def shulan_dir() -> Path:
    if not SHULAN_DIR.is_dir():
        pytest.fail(f"Shulan reference data missing: expected {SHULAN_DIR} (../shared beside the repo)")
    return SHULAN_DIR


@pytest.fixture(scope="session")
def shulan_inputs(shulan_dir: Path) -> CountyInputs:
    townships = read_townships(shulan_dir / "shulan_220283_townships.csv")
    return CountyInputs(
        outline=read_outline(shulan_dir / "shulan_220283_county_wgs84.geojson"),
        townships=townships,
        villages=read_villages(shulan_dir / "shulan_220283_villages.csv", townships),
        seat=read_seat(shulan_dir / "shulan_220283_seat_wgs84.geojson"),
    )


@pytest.fixture(scope="session")
def shulan(shulan_inputs: CountyInputs) -> GeneratedCounty:
    """Shulan as generated from its real inputs (named apart from the suite's `county` fixture)."""
    return generate_county(shulan_inputs.outline, shulan_inputs.townships, shulan_inputs.villages,
                           seat=shulan_inputs.seat)
