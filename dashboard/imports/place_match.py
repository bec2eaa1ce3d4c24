"""Placing a ledger row by its township and village names.

Names match exactly, or after common suffixes are dropped (村民委员会, 居民委员会, 村委会, 居委会,
社区, 村 for villages; 街道办事处, 街道, 镇, 乡 for townships). Matching runs in three steps and
stops at the first step that finds anything: the whole name; the stem and the kind of unit its
suffix names (法特村委会 is 法特村, not 法特社区); the stem alone (法特 fits both 法特村 and 法特社区,
so it is ambiguous). One match places the row; none, or more than one, is a row error naming the
value and the closest known names.

A township given without a village places the case at the township's centre: the grid holding
the township centre's point (see ``data_access.place_names``). The case then counts at that
township and the county exactly, and at the village that grid belongs to; the dry run lists how
many rows were placed so. Pure: the places come in as plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

from dashboard.domain.ledger_words import TOWNSHIP_SUFFIXES, VILLAGE_SUFFIXES, normal, place_stem
from data_access.place_names import CountyPlaces, NamedTownship, NamedVillage

_Named = TypeVar("_Named", NamedTownship, NamedVillage)
CLOSEST = 3
"""How many known names an error suggests."""


@dataclass(frozen=True, slots=True)
class Placed:
    grid_code: str
    township_only: bool = False
    """Only a township was named: the case sits at the township's centre."""


@dataclass(frozen=True, slots=True)
class Unplaced:
    column: str
    message: str


class PlaceIndex:
    """The county's townships and villages by name; answers are remembered per (township, village)."""

    def __init__(self, places: CountyPlaces) -> None:
        self._townships = places.townships
        self._villages = places.villages
        self._answers: dict[tuple[str, str], Placed | Unplaced] = {}

    def find(self, township: str, village: str) -> Placed | Unplaced:
        """Where a row naming ``township`` (may be empty) and ``village`` (may be empty) goes."""
        key = (normal(township), normal(village))
        if key not in self._answers:
            self._answers[key] = self._find(township.strip(), village.strip())
        return self._answers[key]

    def _find(self, township: str, village: str) -> Placed | Unplaced:
        in_township: NamedTownship | None = None
        if township:
            found = _match(township, self._townships, TOWNSHIP_SUFFIXES)
            if not isinstance(found, NamedTownship):
                return Unplaced("township", _miss("township", township, found, self._townships,
                                                  lambda t: t.name, TOWNSHIP_SUFFIXES))
            in_township = found
        if not village:
            if in_township is None:
                return Unplaced("village", "required: give the village (and township), grid_code, or lon and lat")
            if in_township.grid_code is None:
                return Unplaced("township", f"township {in_township.name} has no grids")
            return Placed(in_township.grid_code, township_only=True)
        candidates = tuple(v for v in self._villages if in_township is None or v.township_code == in_township.code)
        hit = _match(village, candidates, VILLAGE_SUFFIXES)
        if not isinstance(hit, NamedVillage):
            where = f" in {in_township.name}" if in_township else ""
            return Unplaced("village", _miss(f"village{where}", village, hit, candidates, _village_name,
                                             VILLAGE_SUFFIXES))
        if hit.grid_code is None:
            return Unplaced("village", f"village {hit.name} has no grids")
        return Placed(hit.grid_code)


def _village_name(v: NamedVillage) -> str:
    return f"{v.name}（{v.township_name}）"


def _match(given: str, known: Sequence[_Named], suffixes: tuple[tuple[str, str], ...]) -> _Named | list[_Named]:
    """The one place ``given`` names, or the list of places it fits (empty: none, two or more: ambiguous)."""
    text = normal(given)
    stem = place_stem(given, suffixes)
    steps: tuple[Callable[[_Named], bool], ...] = (
        lambda p: normal(p.name) == text,
        lambda p: bool(stem.kind) and place_stem(p.name, suffixes) == stem,
        lambda p: place_stem(p.name, suffixes).stem == stem.stem,
    )
    for step in steps:
        fits = [p for p in known if step(p)]
        if len(fits) == 1:
            return fits[0]
        if fits:
            return fits
    return []


def _miss(what: str, given: str, fits: list[_Named], known: Sequence[_Named], name: Callable[[_Named], str],
          suffixes: tuple[tuple[str, str], ...]) -> str:
    if fits:
        return f"{given!r} fits {len(fits)} places: {', '.join(name(p) for p in fits[:5])}" + (
            "; give the township" if what == "village" else "")
    return f"no {what} named {given!r}; closest: {', '.join(name(p) for p in closest(given, known, suffixes))}"


def closest(given: str, known: Sequence[_Named], suffixes: tuple[tuple[str, str], ...],
            limit: int = CLOSEST) -> list[_Named]:
    """The known places whose names look most like ``given`` (whole name or stem, by difflib's ratio)."""
    text, stem = normal(given), place_stem(given, suffixes).stem

    def score(p: _Named) -> float:
        return max(SequenceMatcher(None, text, normal(p.name)).ratio(),
                   SequenceMatcher(None, stem, place_stem(p.name, suffixes).stem).ratio())

    return sorted(known, key=lambda p: (-score(p), p.code))[:limit]
