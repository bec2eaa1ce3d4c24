"""What kind of township- or village-level unit an area is, named for the screens.

An official list holds more than 镇, 乡 and 街道: development zones (开发区), industrial zones and
parks (工业区, 工业园区), state farms (农场), forest farms (林场), ranches (牧场), breeding
stations. Onboarding keeps each as kind `other` (see `geo.sources`), and it is a township (or
village) on every screen, figure and league like any other; only its name for the kind differs,
and that is read from the unit's own name, since "other" says nothing to a leader.
"""

from __future__ import annotations

from dashboard.domain.labels import label

TOWNSHIP_KINDS = ("subdistrict", "town", "township", "other")
"""Kinds a township-level unit is stored with (街道, 镇, 乡, and any other unit)."""
VILLAGE_KINDS = ("community", "village", "other")
"""Kinds a village-level unit is stored with (社区/居委会, 村, and any other unit)."""

OTHER_NAME_ENDINGS: tuple[tuple[str, str], ...] = (
    ("开发区", "development_zone"),
    ("高新区", "development_zone"),
    ("工业园区", "industrial_park"),
    ("产业园区", "industrial_park"),
    ("园区", "industrial_park"),
    ("工业区", "industrial_zone"),
    ("新区", "new_area"),
    ("管理区", "management_area"),
    ("示范区", "demonstration_zone"),
    ("林场", "forest_farm"),
    ("农场", "farm"),
    ("分场", "farm_branch"),
    ("牧场", "ranch"),
    ("渔场", "fishery"),
    ("种畜场", "breeding_station"),
    ("良种场", "breeding_station"),
    ("原种场", "breeding_station"),
    ("繁育场", "breeding_station"),
    ("苗圃", "nursery"),
    ("生活区", "living_area"),
)
"""How a unit of kind `other` names itself, by the ending of its name (first match wins, so a
longer ending comes before a shorter one that it ends with: 工业园区 before 园区)."""


def kind_key(kind: str | None, name: str) -> str | None:
    """The label key (``kind.<word>``) naming a unit's kind: ``kind.town`` for a town; for kind
    `other`, the word its name ends with (``kind.development_zone`` for 幸福开发区), or
    ``kind.other`` when the name says nothing. None for an area without a kind (a county, a grid)."""
    if not kind:
        return None
    if kind != "other":
        return f"kind.{kind}"
    for ending, word in OTHER_NAME_ENDINGS:
        if name.endswith(ending):
            return f"kind.{word}"
    return "kind.other"


def kind_name(kind: str | None, name: str, lang: str) -> str:
    """The kind in words (开发区, 镇, 社区 …; Development zone, Town … in English), or "" for an
    area without a kind."""
    key = kind_key(kind, name)
    return label(key, lang) if key else ""
