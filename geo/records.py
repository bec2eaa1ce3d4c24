"""The township and village lists as plain records.

They live apart from `sources` (which reads files and needs geopandas) so that generation and
the web layer can be used without loading any file-reading machinery.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TownshipRecord:
    """One township-level unit (乡镇/街道) as listed; kind is subdistrict (街道), town (镇),
    township (乡) or other (开发区, 工业园区, 农场, 林场 …: any other township-level unit)."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class VillageRecord:
    """One village-level unit (村/社区) as listed; kind is community (社区/居委会), village (村)
    or other (牧场, 农场分场, 生活区 …: any other village-level unit)."""

    code: str
    name: str
    township_code: str
    kind: str
