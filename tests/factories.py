"""Realistic test data: a small county of square grids, and cases with controllable facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from shapely.affinity import translate
from shapely.geometry import Point, box

from dashboard.cases.casework import CaseDraft
from dashboard.domain.vocabulary import Category, Source, Tier
from geo.generate import GeneratedArea, GeneratedCounty

COUNTY = "990101"


def small_county() -> GeneratedCounty:
    """Two townships × two villages × two grids, 0.1° squares near the demo county."""
    townships, villages, grids = [], [], []
    for t in range(2):
        t_code = f"{COUNTY}{t + 1:03d}"
        t_box = box(127.0 + 0.4 * t, 44.0, 127.4 + 0.4 * t, 44.2)
        townships.append(GeneratedArea(t_code, f"测试镇{t + 1}", None, "town", t_box, t_box.centroid))
        for v in range(2):
            v_code = f"{t_code}{v + 1:03d}"
            v_box = box(127.0 + 0.4 * t + 0.2 * v, 44.0, 127.2 + 0.4 * t + 0.2 * v, 44.2)
            villages.append(GeneratedArea(v_code, f"测试村{t + 1}-{v + 1}", t_code, "village", v_box, v_box.centroid))
            for g in range(2):
                g_box = box(v_box.bounds[0], 44.0 + 0.1 * g, v_box.bounds[2], 44.1 + 0.1 * g)
                grids.append(GeneratedArea(f"{v_code}{g + 1:03d}", f"测试村{t + 1}-{v + 1}第{g + 1}网格", v_code, "grid",
                                           g_box, g_box.centroid))
    return GeneratedCounty(townships, villages, grids, Point(127.4, 44.1))


GRID_CODES = [g.code for g in small_county().grids]


def small_county_at(code: str, xoff: float) -> GeneratedCounty:
    """The small test county under the codes of county ``code`` (names prefixed with it, so they
    stay unique across counties), ``xoff`` degrees of longitude east: a neighbour for tests of
    several counties on one system."""
    def moved(area: GeneratedArea) -> GeneratedArea:
        return replace(area, code=code + area.code[len(COUNTY):], name=f"{code}{area.name}",
                       parent_code=code + area.parent_code[len(COUNTY):] if area.parent_code else None,
                       geometry=translate(area.geometry, xoff=xoff), center=translate(area.center, xoff=xoff))
    own = small_county()
    return GeneratedCounty([moved(a) for a in own.townships], [moved(a) for a in own.villages],
                           [moved(a) for a in own.grids], translate(own.seat, xoff=xoff))


def draft(n: int, received_at: datetime, **overrides: object) -> CaseDraft:
    """The n-th case of a run, spread over the grids; override any fact."""
    base = CaseDraft(
        source=Source.hotline_12345,
        external_ref=f"t-{n}",
        category=list(Category)[n % len(Category)],
        received_at=received_at,
        grid_code=GRID_CODES[n % len(GRID_CODES)],
        tier=Tier.village,
        people_involved=2,
        description="邻里纠纷",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
