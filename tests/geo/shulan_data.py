"""Where the real Shulan inputs live for the geo tests, and the shapes the fixtures hand out."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from shapely.geometry import MultiPolygon, Point

from geo.records import TownshipRecord, VillageRecord

SHULAN_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "shulan"


class CountyInputs(NamedTuple):
    outline: MultiPolygon
    townships: list[TownshipRecord]
    villages: list[VillageRecord]
    seat: Point
