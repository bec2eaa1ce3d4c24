"""Checking a case list's rows: every value of every row, with one clear error per row and column.

``check_rows`` is the one validator: each message names the spreadsheet row, the column and the
value, and says what would be accepted. It does no I/O: the county's grids, the clock and the
point-in-grid lookup come in a :class:`CheckContext`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from dashboard.cases.casework import CaseDraft
from dashboard.domain.errors import FieldError
from dashboard.domain.vocabulary import CLOSED_STATUSES, Category, Satisfaction, Source, Status, Tier
from dashboard.imports.case_file import RawRow
from data_access.areas import GridPlace

_Choice = TypeVar("_Choice", Source, Category, Tier, Status, Satisfaction)
_TIME_EXAMPLE = "e.g. 2026-03-05T09:30:00+08:00"
_SOURCES = frozenset(m.value for m in Source)


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


@dataclass(frozen=True)
class CheckContext:
    """What checking needs from the outside world, handed in so that checking itself stays pure."""

    places: Mapping[str, GridPlace]
    now: datetime
    locate_many: Callable[[Sequence[float], Sequence[float]], list[str | None]] | None = None
    """Grid code (or None) for each point; only needed when some row gives lon/lat."""


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
    parsed = [_parse(raw, context.now) for raw in rows]
    _assign_grids(parsed, context)
    repeats = file_repeats(rows) if repeats is None else repeats
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
                                       p.resolved_at, p.satisfaction))
            else:
                p.row.fail(draft.field or "", draft.message)
        errors.extend(p.row.errors)
    return CheckResult(valid, errors)


def file_repeats(rows: Iterable[RawRow]) -> dict[int, int]:
    """Row number → the earlier row with the same source and external_ref, for every repeat.

    Only rows whose source is a known one and whose ref is not empty count, as only they could
    become cases.
    """
    first_seen: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    for row in rows:
        key = (row.values.get("source", ""), row.values.get("external_ref", ""))
        if key[0] not in _SOURCES or not key[1]:
            continue
        first = first_seen.setdefault(key, row.number)
        if first != row.number:
            repeats[row.number] = first
    return repeats


class _Row:
    """Collects one row's parsed values and errors while it is being checked."""

    __slots__ = ("raw", "errors")

    def __init__(self, raw: RawRow) -> None:
        self.raw = raw
        self.errors: list[RowError] = []

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
        try:
            return kind(value)
        except ValueError:
            self.fail(column, f"must be one of {', '.join(m.value for m in kind)}")
            return None

    def moment(self, column: str) -> datetime | None:
        value = self.text(column)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, f"not an ISO 8601 time ({_TIME_EXAMPLE})")
            return None
        if parsed.tzinfo is None:
            self.fail(column, f"needs a UTC offset ({_TIME_EXAMPLE})")
            return None
        return parsed.astimezone(UTC)

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
    grid_code: str | None = None


def _parse(raw: RawRow, now: datetime) -> _Parsed:
    """Every check that needs only the row itself and the clock."""
    row = _Row(raw)
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

    resolved_at = row.moment("resolved_at")
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
    if not row.text("lon") and not row.text("lat") and not row.text("grid_code"):
        row.fail("grid_code", "give lon and lat, or grid_code")
    return _Parsed(row, source, external_ref, category, received_at, lon, lat, people, tier, status, resolved_at,
                   satisfaction)


def _assign_grids(parsed: list[_Parsed], context: CheckContext) -> None:
    """Place every row in a grid: points in one vectorised lookup, codes against the county's grids."""
    located = [p for p in parsed if p.lon is not None and p.lat is not None]
    if located and context.locate_many is None:
        raise ValueError("rows give lon/lat but the check context has no grid locator")
    grids = context.locate_many([p.lon for p in located], [p.lat for p in located]) if located else []  # type: ignore[misc]
    point_grid = {id(p): grid for p, grid in zip(located, grids, strict=True)}
    for p in parsed:
        given = p.row.text("grid_code")
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
