"""The township and village lists as plain records.

They live apart from `sources` (which reads files and needs geopandas) so that generation and
the web layer can be used without loading any file-reading machinery.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TownshipRecord:
    """One township-level unit (乡镇/街道) as listed; kind is subdistrict, town or township."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class VillageRecord:
    """One village-level unit (村/社区) as listed; kind is community or village."""

    code: str
    name: str
    township_code: str
    kind: str
