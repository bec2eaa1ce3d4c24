"""Bulk case import from CSV or XLSX: check every row, then write all cases in one transaction.

A county moving onto the command centre brings its history as a spreadsheet. Each row becomes a
case under the same lifecycle rules as every other writer: ``dashboard.imports.import_states`` computes
the end state, deadline and alert level that ``casework.new_case`` and ``act`` would leave
(``build_case`` is that replay, kept as the reference the tests hold it to) and one ``import``
event per case, and
``data_access.bulk_cases`` writes them with COPY. After commit the new cases go to the Redis
aggregates in one MULTI, so the screens and a later ``cache reconcile`` agree with SQL.
"""

from __future__ import annotations

import csv
import logging
import math
import multiprocessing as mp
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import redis
from shapely import from_geojson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tqdm import tqdm

from dashboard.cases.casework import CaseDraft, CaseInputError, act, new_case, refresh_alert
from dashboard.domain.contributions import Contribution, contribution
from dashboard.imports.cycle_collector import cycle_collection_paused
from dashboard.imports.import_states import STATE_COLUMNS, CaseState, case_state, case_values, closed_case, import_event
from dashboard.domain.lifecycle import TransitionError
from dashboard.domain.periods import as_utc
from dashboard.domain.rules import Rules
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import CLOSED_STATUSES, Action, Category, Satisfaction, Source, Status, Tier
from data_access import aggregates, areas, bulk_cases, redis_keys
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent
from geo.assign import GridLocator

COLUMNS: tuple[str, ...] = (
    "external_ref", "source", "category", "received_at", "lon", "lat", "grid_code", "people_involved", "tier",
    "status", "resolved_at", "satisfaction", "description",
)
REQUIRED_COLUMNS = frozenset({"external_ref", "source", "category", "received_at", "status"})
REPORT_COLUMNS = ("row", "column", "value", "message")

STEPS: tuple[tuple[Action, Status], ...] = (
    (Action.assess, Status.assessed),
    (Action.dispatch, Status.dispatched),
    (Action.mediate, Status.mediating),
    (Action.resolve, Status.resolved),
    (Action.follow_up, Status.followed_up),
)
"""The main loop in order: a row's status implies every step up to and including it."""

_Choice = TypeVar("_Choice", Source, Category, Tier, Status, Satisfaction)
_TIME_EXAMPLE = "e.g. 2026-03-05T09:30:00+08:00"
log = logging.getLogger(__name__)


class CaseImportError(ValueError):
    """A file that cannot be read as a case list at all (missing, unknown format, bad header)."""


@dataclass(slots=True)
class RawRow:
    """One non-blank data row as text; ``number`` is the spreadsheet row (the header is row 1).

    Not frozen, though nothing changes it: a frozen dataclass's ``__init__`` costs three times as
    much, and an import makes one per row before anything else can start."""

    number: int
    values: Mapping[str, str]
    extra_cells: bool = False


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ImportResult:
    """What an import did; ``exit_code`` is what the CLI should return."""

    rows: int
    imported: int
    duplicates: int
    """Rows already stored under the same (source, external_ref): skipped, counted nothing twice.
    0 when an all-or-nothing import was refused before the database was asked."""
    rejected: int
    """Rows with at least one error; none of them was written."""
    report_path: Path | None
    seconds: float
    errors: tuple[RowError, ...] = field(default=(), repr=False)
    aggregates_behind: bool = False
    """The cases are stored but Redis did not take their aggregates in time: the screens miss them
    until ``cache rebuild`` (or a server's rebuild after a Redis restart)."""

    @property
    def exit_code(self) -> int:
        """0 done; 1 rows were rejected; 3 stored, but the screens' aggregates are behind."""
        if self.aggregates_behind:
            return 3
        return 0 if self.rejected == 0 else 1


# Reading ------------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[RawRow]:
    """The data rows of a CSV (UTF-8, BOM optional) or XLSX file; blank rows are skipped."""
    if not path.is_file():
        raise CaseImportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(path)
    elif suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path)
    else:
        raise CaseImportError(f"{path}: expected a .csv or .xlsx file")
    try:
        header = next(records, None)
        if header is None:
            raise CaseImportError(f"{path}: the file is empty")
        names = _header_names(path, header)
        width = max(names) + 1
        ordered = [names.get(i, "") for i in range(width)]
        gaps = [i for i in range(width) if i not in names]
        rows: list[RawRow] = []
        for number, cells in enumerate(records, start=2):
            if not any(cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            values = dict(zip(ordered, cells))
            extra = len(cells) > width and any(cells[width:])
            if gaps:
                extra = extra or any(cells[i] for i in gaps)
                del values[""]
            rows.append(RawRow(number, values, extra))
    except UnicodeDecodeError as error:
        raise CaseImportError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise CaseImportError(f"{path}: not a readable CSV file ({error})") from None
    return rows


def _csv_records(path: Path) -> Iterable[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        strip = str.strip
        for record in csv.reader(handle):
            yield list(map(strip, record))


def _xlsx_records(path: Path) -> Iterable[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise CaseImportError(f"{path}: not a readable XLSX workbook ({error})") from None
    try:
        sheet = book.worksheets[0]
        for record in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in record]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would hold; spreadsheet dates carry no offset and will be refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header_names(path: Path, header: Sequence[str]) -> dict[int, str]:
    """Cell index → column name; unknown or missing columns refuse the file (a typo must not pass)."""
    names: dict[int, str] = {}
    for i, cell in enumerate(header):
        name = cell.strip().lower()
        if not name:
            continue
        if name not in COLUMNS:
            raise CaseImportError(f"{path}: unknown column {cell!r}; columns are {', '.join(COLUMNS)}")
        if name in names.values():
            raise CaseImportError(f"{path}: column {name!r} appears twice")
        names[i] = name
    missing = sorted(REQUIRED_COLUMNS - set(names.values()))
    if missing:
        raise CaseImportError(f"{path}: missing column(s) {', '.join(missing)}")
    present = set(names.values())
    if "grid_code" not in present and not {"lon", "lat"} <= present:
        raise CaseImportError(f"{path}: needs a grid_code column or both lon and lat columns")
    return names


# Checking -----------------------------------------------------------------------------------------


class _Row:
    """Collects one row's parsed values and errors while it is being checked."""

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


@dataclass
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


_SOURCES = {m.value: m for m in Source}
_CATEGORIES = {m.value: m for m in Category}
_TIERS = {m.value: m for m in Tier}
_STATUSES = {m.value: m for m in Status}
_SATISFACTIONS = {m.value: m for m in Satisfaction}


def _parse_clean(raw: RawRow, now: datetime) -> _Parsed | None:
    """``_parse`` for a row without a single error, in a fifth of the time; ``None`` otherwise.

    The checks are ``_parse``'s, inlined (``_clean_fields``). Any doubt returns ``None`` and the
    row goes through ``_parse``, which words the errors, so the messages have one source.
    """
    fields = _clean_fields(raw, now)
    return None if fields is None else _Parsed(_Row(raw), *fields)


_CleanFields = tuple[Source, str, Category, datetime, float | None, float | None, int, Tier, Status, datetime | None,
                     Satisfaction | None]
"""A clean row's fields in ``_Parsed`` order (after ``row``, before ``grid_code``)."""


def _clean_fields(raw: RawRow, now: datetime) -> _CleanFields | None:
    """The fields of a row that passes every check of ``_parse``; ``None`` at the first doubt."""
    if raw.extra_cells:
        return None
    get = raw.values.get
    external_ref = get("external_ref", "")
    source = _SOURCES.get(get("source", ""))
    category = _CATEGORIES.get(get("category", ""))
    tier_text = get("tier", "")
    tier = _TIERS.get(tier_text) if tier_text else Tier.village
    status = _STATUSES.get(get("status", ""))
    satisfaction_text = get("satisfaction", "")
    satisfaction = _SATISFACTIONS.get(satisfaction_text) if satisfaction_text else None
    if (not external_ref or len(external_ref) > 64 or source is None or category is None or tier is None
            or status is None or bool(satisfaction_text) is not (status is Status.followed_up)
            or (satisfaction_text and satisfaction is None)):
        return None
    people_text = get("people_involved", "")
    resolved_text = get("resolved_at", "")
    lon_text, lat_text = get("lon", ""), get("lat", "")
    if bool(resolved_text) is not (status in CLOSED_STATUSES) or bool(lon_text) is not bool(lat_text):
        return None
    if not lon_text and not get("grid_code", ""):
        return None
    try:
        people = int(people_text) if people_text else 1
        received_at = datetime.fromisoformat(get("received_at", ""))
        resolved_at = datetime.fromisoformat(resolved_text) if resolved_text else None
        lon = float(lon_text) if lon_text else None
        lat = float(lat_text) if lat_text else None
    except ValueError:
        return None
    if not 1 <= people <= 100_000 or received_at.tzinfo is None:
        return None
    received_at = received_at.astimezone(UTC)
    if received_at > now:
        return None
    if resolved_at is not None:
        if resolved_at.tzinfo is None:
            return None
        resolved_at = resolved_at.astimezone(UTC)
        if resolved_at > now or resolved_at < received_at:
            return None
    if lon is not None and lat is not None and not (
            math.isfinite(lon) and -180 <= lon <= 180 and math.isfinite(lat) and -90 <= lat <= 90):
        return None
    return source, external_ref, category, received_at, lon, lat, people, tier, status, resolved_at, satisfaction


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


def check_rows(rows: Sequence[RawRow], context: CheckContext,
               repeats: Mapping[int, int] | None = None) -> CheckResult:
    """Check every row and return the good ones plus every error (row, column, message); no I/O.

    A repeat of an earlier row's (source, external_ref) is an error on the repeat, since a file
    cannot say which of two versions of a case is right. ``repeats`` (from :func:`file_repeats`
    over the whole file) is given when a file is checked a part at a time.
    """
    parsed = [_parse_clean(raw, context.now) or _parse(raw, context.now) for raw in rows]
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
                p.row.fail(draft.field, draft.message)
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


def _draft(p: _Parsed) -> CaseDraft | CaseInputError:
    """The draft, through ``CaseDraft``'s own checks."""
    assert p.source and p.category and p.received_at and p.tier and p.people and p.grid_code
    try:
        return CaseDraft(
            source=p.source, external_ref=p.external_ref, category=p.category, received_at=p.received_at,
            grid_code=p.grid_code, tier=p.tier, people_involved=p.people, description=p.row.text("description"),
            lon=p.lon, lat=p.lat,
        )
    except CaseInputError as error:
        return error


# Building -----------------------------------------------------------------------------------------


def lifecycle_steps(status: Status, received_at: datetime, resolved_at: datetime | None) -> list[tuple[Action, datetime]]:
    """The actions a row's status implies, each with a deterministic time.

    A closed case spreads assess, dispatch and mediate over quarters of receipt → resolution and
    is resolved (and followed up) at ``resolved_at``; an open case has no later time to go by, so
    its steps all happen at receipt.
    """
    steps: list[tuple[Action, datetime]] = []
    for n, (action, reached) in enumerate(STEPS, start=1):
        if status is Status.received:
            break
        if resolved_at is None:
            at = received_at
        elif action in (Action.resolve, Action.follow_up):
            at = resolved_at
        else:
            at = received_at + (resolved_at - received_at) * n / 4
        steps.append((action, at))
        if reached is status:
            break
    return steps


def build_case(row: ImportRow, *, actor: str, now: datetime, rules: Rules) -> tuple[Case, list[CaseEvent]]:
    """The case and its events through the write path's own rules; nothing touches a session."""
    case, first = new_case(row.draft, row.place, actor=actor, now=now, rules=rules)
    events = [first]
    for action, at in lifecycle_steps(row.status, case.received_at, row.resolved_at):
        extra = {"satisfaction": row.satisfaction} if action is Action.follow_up else {}
        events.append(act(case, action, actor=actor, at=at, rules=rules, **extra))  # type: ignore[arg-type]
    refresh_alert(case, now=now, rules=rules)
    return case, events


# Importing ----------------------------------------------------------------------------------------


def default_report_path(path: Path) -> Path:
    """``cases.csv`` → ``cases.errors.csv`` next to the input."""
    return path.with_name(f"{path.stem}.errors.csv")


def write_report(path: Path, errors: Iterable[RowError]) -> None:
    """A CSV of every row error; UTF-8 with BOM so spreadsheet programs show Chinese values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for e in sorted(errors, key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1)):
            writer.writerow((e.row, e.column, e.value, e.message))


def grid_locator(rt: Runtime, county: str) -> GridLocator:
    """Point-in-grid lookup over the county's stored grid polygons."""
    with rt.sessions() as session:
        rows = areas.grid_geometries(session, county)
    return GridLocator([(code, from_geojson(geometry)) for code, _, _, geometry in rows])


def import_cases(
    rt: Runtime,
    path: Path,
    *,
    all_or_nothing: bool = True,
    report_path: Path | None = None,
    actor: str = "import",
    progress: bool = True,
    now: datetime | None = None,
    redis_wait_seconds: float = 60.0,
    audit: Callable[[Session, dict[str, int]], None] | None = None,
) -> ImportResult:
    """Import a CSV/XLSX case list in one transaction, then update the Redis aggregates.

    All-or-nothing (default): any bad row writes nothing. Otherwise bad rows are skipped. Either
    way every bad row goes to the report (default ``<name>.errors.csv``), and rows whose
    (source, external_ref) is already stored are skipped, so re-running a file is harmless.
    After the commit Redis is waited for up to ``redis_wait_seconds``; if it never answers the
    result says ``aggregates_behind`` (exit code 3) and ``cache rebuild`` brings the screens level.
    ``audit`` is called in the import's own transaction, just before it commits, with the counts
    (rows, imported, duplicates, rejected), so the audit entry lands exactly when the cases do.
    Raises ``CaseImportError`` when the file itself cannot be read.
    """
    with cycle_collection_paused():
        return _import(rt, path, all_or_nothing=all_or_nothing, report_path=report_path, actor=actor,
                       progress=progress, now=now or datetime.now(UTC), redis_wait_seconds=redis_wait_seconds,
                       audit=audit)


_CHUNK_ROWS = 5000
"""Rows checked per step of an import: PostgreSQL stores one chunk while the next is checked."""
_FIRST_CHUNK_ROWS = 1000
"""Rows of the first chunk: the server idles until it arrives, so it is kept small."""
_HELPER_QUEUE = 2
"""Chunks handed to the helper process ahead: one to check, one waiting, so it never idles."""


class _Refused(Exception):
    """An all-or-nothing import met a bad row: the COPY is abandoned and the transaction rolls back."""


@dataclass
class _Progress:
    """What the checking generator gathers while the COPY sends its batches."""

    errors: list[RowError]
    items: list[tuple[int, Contribution]] = field(default_factory=list)
    duplicates: int = 0
    refused: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    """Set once every row is checked: what remains for the COPY is the server's work."""


@dataclass(frozen=True)
class _File:
    """Everything a chunk's check needs, fixed before the first chunk: the same in a helper process."""

    raw: Sequence[RawRow]
    context: CheckContext
    repeats: Mapping[int, int]
    stored: set[tuple[str, str]]
    ids: Mapping[int, int]
    """Row number → the case id reserved for it (rows not already stored)."""
    actor: str
    rules: Rules
    file_name: str


@dataclass(frozen=True)
class _Chunk:
    """One chunk's outcome."""

    rows: int
    errors: list[RowError]
    duplicates: int
    items: list[tuple[int, Contribution]]
    batch: bulk_cases.Batch | bulk_cases.Rendered


def _import(rt: Runtime, path: Path, *, all_or_nothing: bool, report_path: Path | None, actor: str,
            progress: bool, now: datetime, redis_wait_seconds: float,
            audit: Callable[[Session, dict[str, int]], None] | None) -> ImportResult:
    started = time.perf_counter()
    raw = read_rows(path)
    service = rt.cases
    needs_locator = any(r.values.get("lon") or r.values.get("lat") for r in raw)
    locator = grid_locator(rt, service.county_code) if needs_locator else None
    context = CheckContext(service.places(), now, locator.locate_many if locator else None)
    found = _Progress([])

    def finish(imported: int, duplicates: int, behind: bool = False) -> ImportResult:
        report = None
        errors = tuple(sorted(found.errors, key=lambda e: e.row))
        if errors:
            report = report_path or default_report_path(path)
            write_report(report, errors)
        return ImportResult(len(raw), imported, duplicates, len({e.row for e in errors}), report,
                            time.perf_counter() - started, errors, behind)

    parents = {"county_code": [service.county_code], "grid_code": list(context.places)}
    with tqdm(total=len(raw), desc="import", unit="row", file=sys.stderr, disable=not progress,
              leave=False) as bar, service.sessions() as session:
        try:
            with session.begin():
                refs = {row.number: (row.values.get("source", ""), row.values.get("external_ref", "")) for row in raw}
                stored = bulk_cases.existing_refs(session, (ref for ref in refs.values() if all(ref)))
                numbers = [number for number, ref in refs.items() if ref not in stored]
                ids = dict(zip(numbers, bulk_cases.reserve_ids(session, len(numbers)), strict=True))
                whole = _File(raw, context, file_repeats(raw), stored, ids, actor, rt.rules, path.name)
                parallel = session.get_bind().dialect.name == "postgresql"
                batches = _batches(whole, found, all_or_nothing=all_or_nothing, parallel=parallel, bar=bar)
                prepared = _write(session, rt, batches, parents, found)
                if audit is not None:
                    audit(session, {"rows": len(raw), "imported": len(found.items), "duplicates": found.duplicates,
                                    "rejected": len({e.row for e in found.errors})})
        except _Refused:
            return finish(0, 0)
        except IntegrityError as error:
            raise CaseImportError(
                f"{path}: the database refused the import, nothing was written ({error.orig}); most likely "
                "another writer stored one of these cases meanwhile: run the import again"
            ) from None
        bar.set_postfix_str("updating Redis")
        behind = bool(found.items) and push_contributions(
            rt.redis, service.county_code, prepared, ensure_built=service.ensure_built,
            wait_seconds=redis_wait_seconds) is None
    return finish(len(found.items), found.duplicates, behind)


def _chunk_bounds(rows: int) -> list[tuple[int, int]]:
    """Where the file's chunks start and stop: ``_FIRST_CHUNK_ROWS``, then ``_CHUNK_ROWS`` each."""
    if not rows:
        return []
    starts = [0, *range(min(_FIRST_CHUNK_ROWS, _CHUNK_ROWS), rows, _CHUNK_ROWS)]
    return list(zip(starts, [*starts[1:], rows], strict=True))


def _check_chunk(whole: _File, bounds: tuple[int, int], *, render: bool) -> _Chunk:
    """Check the file's rows ``bounds`` (start, stop) and turn the good new ones into cases, events
    and contributions; ``render``: with the cases as COPY text (for a helper process to send back)."""
    chunk = whole.raw[bounds[0] : bounds[1]]
    checked = _clean_chunk(whole, chunk) or _checked_row_by_row(whole, chunk)
    if render and isinstance(checked.batch, bulk_cases.Batch):
        return replace(checked, batch=bulk_cases.render(checked.batch, STATE_COLUMNS))
    return checked


def _checked_row_by_row(whole: _File, chunk: Sequence[RawRow]) -> _Chunk:
    """The reference way, for a chunk with any doubt: every row checked on its own, errors worded."""
    checked = check_rows(chunk, whole.context, whole.repeats)
    errors = list(checked.errors)
    fresh = [r for r in checked.valid if (r.draft.source.value, r.draft.external_ref) not in whole.stored]
    states, events, numbers = _states(fresh, actor=whole.actor, now=whole.context.now, rules=whole.rules,
                                      errors=errors, file_name=whole.file_name)
    ids = [whole.ids[number] for number in numbers]
    items = [(case_id, contribution(state, whole.rules)) for case_id, state in zip(ids, states, strict=True)]
    batch = bulk_cases.Batch(ids, [case_values(state) for state in states], events)
    return _Chunk(len(chunk), errors, len(checked.valid) - len(fresh), items, batch)


def _clean_chunk(whole: _File, chunk: Sequence[RawRow]) -> _Chunk | None:
    """``_check_chunk``'s result for a chunk whose every row is clean, without the per-row objects
    of ``check_rows`` and ``case_state``; ``None`` at the first doubt.

    A county's history file is clean nearly always, and those objects were half of an import's
    Python time. The checks are ``_clean_fields`` and ``CaseDraft``'s; a closed row's end state is
    ``import_states.closed_case``; an open one (a few in a hundred) still goes through
    ``case_state`` for its alert. A chunk with any doubt goes the reference way, which words its
    errors, so the two ways cannot disagree on what is refused (``test_import_states`` holds them
    equal, byte for byte, on what is written).
    """
    context, places, stored, ids = whole.context, whole.context.places, whole.stored, whole.ids
    fields: list[_CleanFields] = []
    for raw in chunk:
        found = None if raw.number in whole.repeats else _clean_fields(raw, context.now)
        if found is None or found[1] != found[1].strip():
            return None
        fields.append(found)
    located = [i for i, f in enumerate(fields) if f[4] is not None]
    if located and context.locate_many is None:
        return None
    point_grids = dict(zip(located, context.locate_many([fields[i][4] for i in located],  # type: ignore[misc]
                                                        [fields[i][5] for i in located]) if located else [],
                           strict=True))
    now = as_utc(context.now)
    event_heads = {status: import_event(status, actor=whole.actor, now=now, note="")[:-1] for status in Status}
    duplicates = 0
    case_ids: list[int] = []
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    items: list[tuple[int, Contribution]] = []
    for i, (raw, (source, ref, category, received, lon, lat, people, tier, status, resolved, satisfaction)) in \
            enumerate(zip(chunk, fields, strict=True)):
        given = raw.values.get("grid_code", "")
        grid = point_grids.get(i, given)
        if grid is None or (given and (given != grid or given not in places)):
            return None
        if (raw.values["source"], ref) in stored:
            duplicates += 1
            continue
        place, description = places[grid], raw.values.get("description", "")
        if resolved is not None and status in CLOSED_STATUSES:
            values, item = closed_case(source=source, external_ref=ref, category=category, description=description,
                                       people=people, place=place, lon=lon, lat=lat, status=status, tier=tier,
                                       received_at=received, resolved_at=resolved, satisfaction=satisfaction,
                                       actor=whole.actor, rules=whole.rules)
        else:
            draft = CaseDraft(source=source, external_ref=ref, category=category, received_at=received, grid_code=grid,
                              tier=tier, people_involved=people, description=description, lon=lon, lat=lat)
            try:
                state, _ = case_state(ImportRow(raw.number, draft, place, status, resolved, satisfaction),
                                      actor=whole.actor, now=now, rules=whole.rules)
            except (CaseInputError, TransitionError):
                return None
            values, item = case_values(state), contribution(state, whole.rules)
        events.append((len(cases), *event_heads[status], f"{whole.file_name}:{raw.number}"))
        cases.append(values)
        case_ids.append(ids[raw.number])
        items.append((ids[raw.number], item))
    return _Chunk(len(chunk), [], duplicates, items, bulk_cases.Batch(case_ids, cases, events))


_HELPING: _File | None = None
"""The file a helper process checks: set before it is forked, so it inherits it instead of receiving it pickled."""


def _check_in_helper(bounds: tuple[int, int]) -> _Chunk:
    assert _HELPING is not None
    return _check_chunk(_HELPING, bounds, render=True)


@contextmanager
def _helper(whole: _File, chunks: int, wanted: bool) -> Iterator[ProcessPoolExecutor | None]:
    """A second process that checks every other chunk, on a machine with a core to spare.

    Checking is pure Python and holds the GIL, so a thread cannot share it; a forked process
    inherits the file and the county already read, and sends back each chunk as COPY text and
    contributions. Without ``fork`` (or a second core, or more than two chunks) the import checks
    everything itself.
    """
    global _HELPING
    if not wanted or chunks < 3 or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        yield None
        return
    _HELPING = whole
    pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
    try:
        yield pool
    finally:
        # Not waiting for the process to exit (a tenth of a second) keeps it off the COPY's last
        # chunk; nothing is pending by now, and the pool reaps the process in the background.
        pool.shutdown(wait=False, cancel_futures=True)
        _HELPING = None


def _batches(whole: _File, found: _Progress, *, all_or_nothing: bool, parallel: bool,
             bar: tqdm[object]) -> Iterator[bulk_cases.Batch | bulk_cases.Rendered]:
    """Check the file a chunk at a time and yield each chunk's new cases for the COPY.

    Rows already stored under their (source, external_ref) are skipped and counted. With a
    helper process, the two share the chunks as they go: this one takes them from the front, the
    helper from the back, two at a time so it never waits, and they meet where the work is done.
    (A fixed half each left this process, which also feeds the COPY, the slower one: the helper's
    chunks waited for it.) In all-or-nothing mode the first bad row stops the yielding, but the
    rest of the file is still checked so that the report lists every error; then ``_Refused``
    abandons the COPY.
    """
    left = deque(_chunk_bounds(len(whole.raw)))

    def take(chunk: _Chunk) -> Iterator[bulk_cases.Batch | bulk_cases.Rendered]:
        found.errors.extend(chunk.errors)
        found.duplicates += chunk.duplicates
        bar.update(chunk.rows)
        if not (found.errors and all_or_nothing):
            found.items.extend(chunk.items)
            yield chunk.batch

    with _helper(whole, len(left), parallel) as helper:
        helped: deque[Future[_Chunk]] = deque()

        def hand_over() -> None:
            while helper is not None and len(helped) < _HELPER_QUEUE and len(left) > 1:
                helped.append(helper.submit(_check_in_helper, left.pop()))

        hand_over()
        while left or helped:
            while helped and helped[0].done():
                yield from take(helped.popleft().result())
                hand_over()
            if left:
                yield from take(_check_chunk(whole, left.popleft(), render=parallel))
                hand_over()
            elif helped:
                yield from take(helped.popleft().result())
        found.refused = bool(found.errors) and all_or_nothing
        found.done.set()  # before the helper is let go: the Redis changes can be prepared meanwhile
    if found.refused:
        raise _Refused


def _write(session: Session, rt: Runtime, batches: Iterator[bulk_cases.Batch | bulk_cases.Rendered], parents: Mapping[str, Sequence[str]],
           found: _Progress) -> aggregates.NewCases | list[tuple[int, Contribution]]:
    """Insert the cases as they are checked and prepare their Redis aggregates, overlapped on PostgreSQL.

    On PostgreSQL this thread checks the chunks (``batches``) and hands each one to a writer
    thread, which sends it to the server (its cases, then its events) while the next is checked;
    once every chunk is checked this thread prepares the Redis records and counters while the
    server stores the last ones. SQLite works inside this process, so there it runs one after the
    other. Returns what to send to Redis after the commit: prepared cases, or plain contributions
    if Redis did not answer while preparing.
    """
    if session.get_bind().dialect.name != "postgresql":
        bulk_cases.insert_batches(session, batches, STATE_COLUMNS, parents)
        return _prepare(rt, found.items)
    handed: queue.Queue[bulk_cases.Batch | bulk_cases.Rendered | BaseException | None] = queue.Queue(_COPY_AHEAD)

    def handed_over() -> Iterator[bulk_cases.Batch | bulk_cases.Rendered]:
        while (item := handed.get()) is not None:
            if isinstance(item, BaseException):
                raise item  # abandons the COPY; the transaction rolls back
            yield item

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy") as pool:
        writing = pool.submit(bulk_cases.insert_batches, session, handed_over(), STATE_COLUMNS, parents)
        try:
            for batch in batches:
                _hand(handed, batch, writing)
            prepared = found.items if found.refused else _prepare(rt, found.items)  # while the last are stored
        except BaseException as error:
            if not writing.done():
                _hand(handed, error, writing)
            wait([writing])
            raise
        _hand(handed, None, writing)
        writing.result()
        return prepared


_COPY_AHEAD = 2
"""Checked chunks that may wait for the writer thread: enough to keep the server fed."""


def _hand(handed: queue.Queue[Any], item: object, writing: Future[int]) -> None:
    """Give the writer thread its next item, unless it has stopped (then raise what stopped it)."""
    while True:
        try:
            handed.put(item, timeout=0.05)
            return
        except queue.Full:
            if writing.done():
                writing.result()
                raise RuntimeError("the COPY stopped before the last chunk") from None


def _prepare(rt: Runtime, items: list[tuple[int, Contribution]]) -> aggregates.NewCases | list[tuple[int, Contribution]]:
    try:
        return aggregates.prepare_new_cases(rt.redis, rt.cases.county_code, items)
    except redis.RedisError:
        return items


def push_contributions(client: redis.Redis, county: str,
                       cases: aggregates.NewCases | Sequence[tuple[int, Contribution]], *,
                       ensure_built: Callable[[], None] | None = None, wait_seconds: float = 60.0,
                       retry_seconds: float = 0.5) -> int | None:
    """``CaseService.push_new`` for imported rows: the same aggregates, without ORM objects.

    The cases are committed by now, and a server's repair thread knows nothing of them: only this
    process can bring Redis level. So a Redis that does not answer is waited for, up to
    ``wait_seconds``, and retried (applying is idempotent, and a Redis that came back empty is
    rebuilt from SQL, the import included, by ``ensure_built``). Returns the aggregate version, or
    ``None`` if Redis never answered; the caller must then say that ``cache rebuild`` is needed.
    """
    deadline = time.monotonic() + wait_seconds
    retrying = False
    while True:
        try:
            if retrying and ensure_built is not None and not aggregates.is_built(client, county):
                ensure_built()
                version = aggregates.version(client, county)
            elif isinstance(cases, aggregates.NewCases):
                version = aggregates.apply_prepared(client, county, cases)
            else:
                version = aggregates.apply_new_cases(client, county, cases)
            client.publish(redis_keys.changes_channel(county), str(version))
            return version
        except (redis.RedisError, OSError):  # aggregates.RebuildUnderWay included: wait for the rebuild
            if isinstance(cases, aggregates.NewCases):  # prepared under area indexes a rebuild may renumber
                cases = list(cases.contributions.items())
            if time.monotonic() >= deadline:
                log.error("Redis did not take the import's aggregates after its commit: the cases are stored, "
                          "the screens miss them until `python -m dashboard cache rebuild`", exc_info=True)
                return None
            log.warning("Redis did not take the import's aggregates; retrying for up to %.0f s", wait_seconds,
                        exc_info=True)
            retrying = True
            time.sleep(retry_seconds)


def _states(rows: Sequence[ImportRow], *, actor: str, now: datetime, rules: Rules, errors: list[RowError],
            file_name: str) -> tuple[list[CaseState], list[tuple[Any, ...]], list[int]]:
    """Every case's end state, its import event (led by the case's index, noting the file row) and
    its row number; a refusal becomes a row error."""
    states: list[CaseState] = []
    events: list[tuple[Any, ...]] = []
    numbers: list[int] = []
    for row in rows:
        try:
            state, event = case_state(row, actor=actor, now=now, rules=rules, note=f"{file_name}:{row.number}")
        except (CaseInputError, TransitionError) as error:
            column = error.field if isinstance(error, CaseInputError) else "status"
            errors.append(RowError(row.number, column, "", str(error)))
        else:
            events.append((len(states), *event))
            states.append(state)
            numbers.append(row.number)
    return states, events, numbers
