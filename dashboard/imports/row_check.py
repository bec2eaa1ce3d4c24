"""Checking a case list's rows: every value of every row, with one clear error per row and column.

``check_rows`` is the one validator: each message names the spreadsheet row, the column and the
value, and says what would be accepted. It does no I/O: the county's grids, the clock, the
point-in-grid lookup, the ledger's words and the place names come in a :class:`CheckContext`.

Values are read as ledgers write them: a choice by its code name, its screen label or a synonym
(``dashboard.domain.ledger_words``, plus the county's own words); a time in the shapes of
``dashboard.domain.ledger_times`` (Asia/Shanghai when it has no offset; a date alone is 00:00 for
receipt, 23:59 for resolution); a place by grid code, by lon/lat, or by township and village name
(``dashboard.imports.place_match``). Personal data (party name, phone, ID number, address) is
checked for length and travels with the row to be stored on the case, as the write path stores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from dashboard.cases.casework import CaseDraft
from dashboard.cases.personal_data import clean_party
from dashboard.domain.errors import FieldError
from dashboard.domain.ledger_times import TimeTextError, ledger_time
from dashboard.domain.ledger_words import LedgerWords, builtin_words, choice_hint
from dashboard.domain.masking import PartyDetails
from dashboard.domain.vocabulary import CLOSED_STATUSES, Category, Satisfaction, Source, Status, Tier
from dashboard.imports.case_file import RawRow
from dashboard.imports.place_match import PlaceIndex, Placed
from data_access.areas import GridPlace

_Choice = TypeVar("_Choice", Source, Category, Tier, Status, Satisfaction)
_BUILTIN = builtin_words()
_PARTY_FIELDS = ("party_name", "party_phone", "party_id_number", "address")
_NO_PARTY = PartyDetails()


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A row that passed every check, ready to become a case."""

    number: int
    draft: CaseDraft
    place: GridPlace
    status: Status
    resolved_at: datetime | None
    satisfaction: Satisfaction | None
    party: PartyDetails = PartyDetails()
    """Personal data from the row, stored on the case (masked in every view, never printed)."""
    township_only: bool = False
    """Placed by a township name alone: at the township centre's grid."""


@dataclass(frozen=True)
class CheckContext:
    """What checking needs from the outside world, handed in so that checking itself stays pure."""

    places: Mapping[str, GridPlace]
    now: datetime
    locate_many: Callable[[Sequence[float], Sequence[float]], list[str | None]] | None = None
    """Grid code (or None) for each point; only needed when some row gives lon/lat."""
    words: LedgerWords = _BUILTIN
    """Header and value words: the built-in ones and the county's own."""
    place_names: PlaceIndex | None = None
    """The county's townships and villages by name; only needed when some row names its place."""


@dataclass(frozen=True)
class CheckResult:
    valid: list[ImportRow]
    errors: list[RowError]


def check_rows(rows: Sequence[RawRow], context: CheckContext,
               repeats: Mapping[int, int] | None = None) -> CheckResult:
    """Check every row and return the good ones plus every error (row, column, message); no I/O.

    A repeat of an earlier row's (source, external_ref) is an error on the repeat, since a file
    cannot say which of two versions of a case is right. ``repeats`` (from :func:`file_repeats`
    over the whole file) is given when a file is checked a part at a time.
    """
    codes: dict[tuple[str, str], str | None] = {}
    parsed = [_parse(raw, context, codes) for raw in rows]
    _assign_grids(parsed, context)
    repeats = file_repeats(rows, context.words) if repeats is None else repeats
    valid: list[ImportRow] = []
    errors: list[RowError] = []
    for p in parsed:
        first = repeats.get(p.row.raw.number)
        if first is not None:
            p.row.fail("external_ref", f"repeats row {first} (same source and external_ref)")
        if not p.row.errors:
            draft = _draft(p)
            if isinstance(draft, CaseDraft):
                assert p.status is not None and p.grid_code is not None
                valid.append(ImportRow(p.row.raw.number, draft, context.places[p.grid_code], p.status,
                                       p.resolved_at, p.satisfaction, p.party, p.township_only))
            else:
                p.row.fail(draft.field or "", draft.message)
        errors.extend(p.row.errors)
    return CheckResult(valid, errors)


def file_repeats(rows: Iterable[RawRow], words: LedgerWords = _BUILTIN) -> dict[int, int]:
    """Row number → the earlier row with the same source and external_ref, for every repeat.

    Only rows whose source is a known one (by code, label or synonym: 12345 and hotline_12345
    are one source) and whose ref is not empty count, as only they could become cases.
    """
    first_seen: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    sources: dict[str, str | None] = {}
    for row in rows:
        text = row.values.get("source", "")
        if text not in sources:
            sources[text] = words.code_of("source", text) if text else None
        source = sources[text]
        key = (source or "", row.values.get("external_ref", ""))
        if source is None or not key[1]:
            continue
        first = first_seen.setdefault(key, row.number)
        if first != row.number:
            repeats[row.number] = first
    return repeats


class _Row:
    """Collects one row's parsed values and errors while it is being checked."""

    __slots__ = ("raw", "errors", "words", "codes")

    def __init__(self, raw: RawRow, words: LedgerWords, codes: dict[tuple[str, str], str | None]) -> None:
        self.raw = raw
        self.errors: list[RowError] = []
        self.words = words
        self.codes = codes

    def text(self, column: str) -> str:
        return self.raw.values.get(column, "")

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.raw.number, column, self.text(column), message))

    def choice(self, column: str, kind: type[_Choice], default: _Choice | None = None) -> _Choice | None:
        value = self.text(column)
        if not value:
            if default is None:
                self.fail(column, "required")
            return default
        key = (column, value)
        if key not in self.codes:
            self.codes[key] = self.words.code_of(column, value)
        code = self.codes[key]
        if code is None:
            self.fail(column, f"unknown {column}: must be one of {choice_hint(column)}, a synonym, "
                              "or a word of the county's words file")
            return None
        return kind(code)

    def moment(self, column: str, *, end_of_day: bool = False) -> datetime | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return ledger_time(value, end_of_day=end_of_day)
        except TimeTextError as error:
            self.fail(column, str(error))
            return None

    def number(self, column: str, low: float, high: float) -> float | None:
        value = self.text(column)
        if not value:
            return None
        try:
            parsed = float(value)
        except ValueError:
            self.fail(column, "not a number")
            return None
        if not (math.isfinite(parsed) and low <= parsed <= high):
            self.fail(column, f"must be between {low:g} and {high:g}")
            return None
        return parsed


@dataclass(slots=True)
class _Parsed:
    """A row's fields after parsing, before its grid is known."""

    row: _Row
    source: Source | None
    external_ref: str
    category: Category | None
    received_at: datetime | None
    lon: float | None
    lat: float | None
    people: int | None
    tier: Tier | None
    status: Status | None
    resolved_at: datetime | None
    satisfaction: Satisfaction | None
    party: PartyDetails = PartyDetails()
    grid_code: str | None = None
    township_only: bool = False


def _parse(raw: RawRow, context: CheckContext, codes: dict[tuple[str, str], str | None]) -> _Parsed:
    """Every check that needs only the row itself, the clock and the words."""
    now = context.now
    row = _Row(raw, context.words, codes)
    if raw.extra_cells:
        row.fail("", "more cells than the header has columns")
    external_ref = row.text("external_ref")
    if not external_ref:
        row.fail("external_ref", "required")
    elif len(external_ref) > 64:
        row.fail("external_ref", "at most 64 characters")
    source = row.choice("source", Source)
    category = row.choice("category", Category)
    tier = row.choice("tier", Tier, Tier.village)
    status = row.choice("status", Status)
    satisfaction = row.choice("satisfaction", Satisfaction, None) if row.text("satisfaction") else None

    people: int | None = 1
    if row.text("people_involved"):
        try:
            people = int(row.text("people_involved"))
        except ValueError:
            people = None
            row.fail("people_involved", "not a whole number")
        if people is not None and not 1 <= people <= 100_000:
            people = None
            row.fail("people_involved", "must be between 1 and 100000")

    received_at = row.moment("received_at")
    if received_at is None and not row.text("received_at"):
        row.fail("received_at", "required")
    elif received_at is not None and received_at > now:
        row.fail("received_at", "lies in the future")
        received_at = None

    resolved_at = row.moment("resolved_at", end_of_day=True)
    closed = status in CLOSED_STATUSES
    if status is not None and closed and not row.text("resolved_at"):
        row.fail("resolved_at", f"required when status is {status.value}")
    elif status is not None and not closed and row.text("resolved_at"):
        row.fail("resolved_at", "only for status resolved or followed_up")
    elif resolved_at is not None:
        if resolved_at > now:
            row.fail("resolved_at", "lies in the future")
        elif received_at is not None and resolved_at < received_at:
            row.fail("resolved_at", "lies before received_at")

    if status is Status.followed_up and not row.text("satisfaction"):
        row.fail("satisfaction", "required when status is followed_up")
    elif status is not None and status is not Status.followed_up and row.text("satisfaction"):
        row.fail("satisfaction", "only for status followed_up")

    lon = row.number("lon", -180, 180)
    lat = row.number("lat", -90, 90)
    if bool(row.text("lon")) != bool(row.text("lat")):
        row.fail("lat" if row.text("lon") else "lon", "give both lon and lat, or neither")
    named = row.text("township") or row.text("village")
    if not row.text("lon") and not row.text("lat") and not row.text("grid_code") and not named:
        row.fail("village" if "village" in raw.values else "grid_code",
                 "give the township and village, grid_code, or lon and lat")
    party = _NO_PARTY
    try:
        texts = [row.text(name) for name in _PARTY_FIELDS]
        if any(texts):
            party = clean_party(*texts)
    except FieldError as error:
        row.errors.append(RowError(raw.number, error.field or "", "(personal data, not shown)", error.message))
    return _Parsed(row, source, external_ref, category, received_at, lon, lat, people, tier, status, resolved_at,
                   satisfaction, party)


def _assign_grids(parsed: list[_Parsed], context: CheckContext) -> None:
    """Place every row in a grid: points in one vectorised lookup, codes against the county's grids."""
    located = [p for p in parsed if p.lon is not None and p.lat is not None]
    if located and context.locate_many is None:
        raise ValueError("rows give lon/lat but the check context has no grid locator")
    grids = context.locate_many([p.lon for p in located], [p.lat for p in located]) if located else []  # type: ignore[misc]
    point_grid = {id(p): grid for p, grid in zip(located, grids, strict=True)}
    for p in parsed:
        given = p.row.text("grid_code")
        if not given and id(p) not in point_grid and (p.row.text("township") or p.row.text("village")):
            _place_by_name(p, context)
            continue
        if given and given not in context.places:
            p.row.fail("grid_code", "no such grid in this county")
            continue
        if id(p) in point_grid:
            found = point_grid[id(p)]
            if found is None:
                p.row.fail("lon", "the point lies outside every grid of the county")
            elif given and given != found:
                p.row.fail("grid_code", f"the point lon/lat lies in grid {found}")
            else:
                p.grid_code = found
        elif given:
            p.grid_code = given


def _place_by_name(p: _Parsed, context: CheckContext) -> None:
    """Place a row by its township and village names (``place_match``)."""
    if context.place_names is None:
        raise ValueError("rows name their place but the check context has no place names")
    found = context.place_names.find(p.row.text("township"), p.row.text("village"))
    if isinstance(found, Placed):
        if found.grid_code not in context.places:
            p.row.fail("village", "the place's grid is not one of this county's grids")
            return
        p.grid_code = found.grid_code
        p.township_only = found.township_only
    else:
        p.row.fail(found.column, found.message)


def _draft(p: _Parsed) -> CaseDraft | FieldError:
    """The draft, through ``CaseDraft``'s own checks."""
    assert p.source and p.category and p.received_at and p.tier and p.people and p.grid_code
    try:
        return CaseDraft(
            source=p.source, external_ref=p.external_ref, category=p.category, received_at=p.received_at,
            grid_code=p.grid_code, tier=p.tier, people_involved=p.people, description=p.row.text("description"),
            lon=p.lon, lat=p.lat,
        )
    except FieldError as error:
        return error
