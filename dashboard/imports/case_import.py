"""Bulk case import from CSV or XLSX: read the file, check every row, write all cases in one transaction.

Ledgers (台账) come as counties keep them: Chinese headers and values, title rows, GBK CSV, places
by township and village name, local times (docs/ledgers.md). ``preview`` is the dry run: the same
reading and checking, every case built in memory as the import would build it, nothing written.

A county moving onto the command centre brings its history as a spreadsheet. The file is read by
:mod:`dashboard.imports.case_file` and every row checked by :mod:`dashboard.imports.row_check`;
each good row becomes a case through the write path's own lifecycle
(``casework.replayed_case``: received, then the main loop up to the row's status) and gets one
``import`` event saying who brought it in, when, and from which file row. ``data_access.bulk_cases``
writes them all in one transaction, which also holds the import's audit entry; after the commit
the new cases go to the Redis aggregates and one change is published
(``dashboard.cases.apply``), so the screens and a later ``cache reconcile`` agree with SQL.
"""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

import redis
from shapely import from_geojson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.cases.apply import apply_and_publish
from dashboard.cases.casework import CaseState, replayed_case
from dashboard.domain.contributions import Contribution, contribution
from dashboard.domain.errors import FieldError, TransitionError
from dashboard.domain.ledger_times import TimeTextError, ledger_time
from dashboard.domain.ledger_words import CHOICE_FIELDS, FIELDS, PERSONAL_FIELDS, LedgerWords, WordsFileError, \
    builtin_words, county_words
from dashboard.domain.periods import as_utc, local_date
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action, Status
from dashboard.imports.case_file import COLUMNS, CaseImportError, FileCaps, LedgerFile, RawRow, read_ledger
from dashboard.imports.place_match import PlaceIndex
from dashboard.imports.row_check import CheckContext, CheckResult, ImportRow, RowError, check_rows, file_repeats
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import aggregates, areas, bulk_cases, place_names, redis_changes
from geo.assign import GridLocator

__all__ = ["COLUMNS", "CaseImportError", "ImportResult", "Preview", "Progress", "import_cases", "load_words",
           "preview", "push_contributions"]

REPORT_COLUMNS = ("row", "column", "value", "message")
STATE_COLUMNS: tuple[str, ...] = tuple(name for name in bulk_cases.CASE_COLUMNS if name in CaseState.__dataclass_fields__)
"""The case columns a case's replay sets; the others keep their column default."""
PARTY_COLUMNS: tuple[str, ...] = ("party_name", "party_phone", "party_id_number", "address")
"""The personal data a ledger row may give, stored on the case as the write path stores it."""
_VALUES = attrgetter(*STATE_COLUMNS)

Progress = Callable[[int, int], None]
"""Told (rows done, rows in the file) as the import goes, e.g. to draw a progress bar."""

log = logging.getLogger(__name__)


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
    ledger: LedgerFile | None = field(default=None, repr=False)
    """What was read: the format, the detected encoding, the header row, the columns used and ignored."""
    """The cases are stored but Redis did not take their aggregates in time: the screens miss them
    until ``cache rebuild`` (or a server's rebuild after a Redis restart)."""

    @property
    def exit_code(self) -> int:
        """0 done; 1 rows were rejected; 3 stored, but the screens' aggregates are behind."""
        if self.aggregates_behind:
            return 3
        return 0 if self.rejected == 0 else 1


def load_words(settings: Settings, path: Path | None = None) -> LedgerWords:
    """The built-in ledger words plus the county's own: ``path`` (``--words``), else the setting
    ``ledger_words_file``, else ``var_dir/ledger_words.toml`` when it exists."""
    chosen = path or settings.ledger_words_file
    if chosen is None:
        default = settings.var_dir / "ledger_words.toml"
        chosen = default if default.is_file() else None
    if chosen is None:
        return builtin_words()
    try:
        text = chosen.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseImportError(f"{chosen}: cannot read the words file ({error})") from None
    try:
        return county_words(text, origin=str(chosen))
    except WordsFileError as error:
        raise CaseImportError(str(error)) from None


def file_caps(settings: Settings) -> FileCaps:
    """The size caps of a case list, from the settings."""
    return FileCaps(max_rows=settings.import_max_rows, max_columns=settings.import_max_columns,
                    max_unpacked_bytes=settings.import_max_unpacked_mb * 1024 * 1024)


def default_report_path(path: Path) -> Path:
    """``cases.csv`` → ``cases.errors.csv`` next to the input."""
    return path.with_name(f"{path.stem}.errors.csv")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell beginning with one of these is a formula to a spreadsheet program."""


def inert(cell: object) -> str:
    """The cell as text a spreadsheet shows and never evaluates: a leading quote before a formula start."""
    text = str(cell)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_report(path: Path, errors: Iterable[RowError]) -> None:
    """A CSV of every row error; UTF-8 with BOM so spreadsheet programs show Chinese values. The
    file's own values come back in it, so every cell is made inert (``inert``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for e in sorted(errors, key=lambda e: (e.row, FIELDS.index(e.column) if e.column in FIELDS else -1)):
            writer.writerow((e.row, inert(e.column), inert(e.value), inert(e.message)))


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
    progress: Progress | None = None,
    now: datetime | None = None,
    redis_wait_seconds: float = 60.0,
    audit: Callable[[Session, dict[str, int]], None] | None = None,
    words: LedgerWords | None = None,
) -> ImportResult:
    """Import a CSV/XLSX case list in one transaction, then update the Redis aggregates.

    All-or-nothing (default): any bad row writes nothing. Otherwise bad rows are skipped. Either
    way every bad row goes to the report (default ``<name>.errors.csv``), and rows whose
    (source, external_ref) is already stored are skipped, so re-running a file is harmless.
    After the commit Redis is waited for up to ``redis_wait_seconds``; if it never answers the
    result says ``aggregates_behind`` (exit code 3) and ``cache rebuild`` brings the screens level.
    ``audit`` is called in the import's own transaction, just before it commits, with the counts
    (rows, imported, duplicates, rejected), so the audit entry lands exactly when the cases do.
    ``progress`` is told (rows checked, rows in the file) as the import goes. ``words`` are the
    ledger's words (default: :func:`load_words` from the settings).
    Raises ``CaseImportError`` when the file itself cannot be read.
    """
    started = time.perf_counter()
    now = as_utc(now or rt.clock())
    ledger, checked = _read_and_check(rt, path, now=now, words=words, progress=progress)
    raw = ledger.rows
    service = rt.cases
    errors = list(checked.errors)

    def finish(imported: int, duplicates: int, behind: bool = False) -> ImportResult:
        ordered = tuple(sorted(errors, key=lambda e: e.row))
        written = None
        if ordered:
            written = report_path or default_report_path(path)
            write_report(written, ordered)
        return ImportResult(len(raw), imported, duplicates, len({e.row for e in ordered}), written,
                            time.perf_counter() - started, ordered, behind, ledger)

    if errors and all_or_nothing:
        return finish(0, 0)
    with service.sessions() as session:
        try:
            with session.begin():
                keys = [(row.draft.source.value, row.draft.external_ref) for row in checked.valid]
                stored = bulk_cases.existing_refs(session, keys)
                fresh = [row for row, key in zip(checked.valid, keys, strict=True) if key not in stored]
                kept: list[ImportRow] = []
                states, events = _cases(fresh, actor=actor, now=now, rules=rt.rules, errors=errors,
                                        file_name=path.name, kept=kept)
                if errors and all_or_nothing:
                    raise _Refused
                if any(not row.party.is_empty() for row in kept):
                    values = [(*_VALUES(state), *_party_values(row)) for state, row in zip(states, kept, strict=True)]
                    ids = bulk_cases.insert_cases(session, values, events, STATE_COLUMNS + PARTY_COLUMNS)
                else:
                    ids = bulk_cases.insert_cases(session, [_VALUES(state) for state in states], events,
                                                  STATE_COLUMNS)
                if audit is not None:
                    audit(session, {"rows": len(raw), "imported": len(ids), "duplicates": len(stored),
                                    "rejected": len({e.row for e in errors})})
        except _Refused:
            return finish(0, 0)
        except IntegrityError as error:
            raise CaseImportError(
                f"{path}: the database refused the import, nothing was written ({error.orig}); most likely "
                "another writer stored one of these cases meanwhile: run the import again"
            ) from None
    if progress:
        progress(len(raw), len(raw))
    items = [(case_id, contribution(state, rt.rules)) for case_id, state in zip(ids, states, strict=True)]
    behind = bool(items) and push_contributions(
        rt.redis, service.county_code, items, ensure_built=service.ensure_built,
        wait_seconds=redis_wait_seconds) is None
    if behind:  # the outbox keeps them: any app process's drain applies them once Redis answers
        service.owe(ids)
    return finish(len(ids), len(stored), behind)


def _party_values(row: ImportRow) -> tuple[str | None, ...]:
    details = row.party.as_dict()
    return tuple(details[name] for name in PARTY_COLUMNS)


def _read_and_check(rt: Runtime, path: Path, *, now: datetime, words: LedgerWords | None,
                    progress: Progress | None) -> tuple[LedgerFile, CheckResult]:
    """Read the file (caps from the settings) and check every row against the county."""
    words = words or load_words(rt.settings)
    ledger = read_ledger(path, words, file_caps(rt.settings))
    raw = ledger.rows
    service = rt.cases
    needs_locator = any(r.values.get("lon") or r.values.get("lat") for r in raw)
    locator = grid_locator(rt, service.county_code) if needs_locator else None
    names = None
    if any(r.values.get("township") or r.values.get("village") for r in raw):
        with rt.sessions() as session:
            names = PlaceIndex(place_names.county_places(session, service.county_code))
    context = CheckContext(service.places(), now, locator.locate_many if locator else None, words, names)
    return ledger, _checked(raw, context, progress or None)


@dataclass(frozen=True)
class ValueCount:
    """One distinct value of a choice column: what it maps to (``None``: unmapped) and how often."""

    text: str
    code: str | None
    rows: int


@dataclass(frozen=True)
class Preview:
    """What ``cases import --dry-run`` shows; computed exactly as the import would, nothing written."""

    ledger: LedgerFile
    values: dict[str, list[ValueCount]]
    """Per choice field (source, category, status, tier, satisfaction): each distinct value."""
    errors: tuple[RowError, ...]
    """Every row that would fail, with its reasons (the write path's refusals included)."""
    would_import: int
    already_stored: int
    township_only: int
    """Rows placed by a township name alone, at the township's centre."""
    first_day: date | None
    last_day: date | None
    """The Asia/Shanghai days of the earliest and latest receipt among the rows that parse."""
    personal_columns: tuple[str, ...]
    """Fields of personal data the file gives: stored with the case, never shown here."""

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})


def preview(rt: Runtime, path: Path, *, words: LedgerWords | None = None, now: datetime | None = None,
            progress: Progress | None = None) -> Preview:
    """The dry run: read and check the file, build every case in memory, look up which are stored
    already (a read), and write nothing at all (no case, no report file, no audit entry)."""
    now = as_utc(now or rt.clock())
    words = words or load_words(rt.settings)
    ledger, checked = _read_and_check(rt, path, now=now, words=words, progress=progress)
    errors = list(checked.errors)
    with rt.cases.sessions() as session:
        keys = [(row.draft.source.value, row.draft.external_ref) for row in checked.valid]
        stored = bulk_cases.existing_refs(session, keys)
    fresh = [row for row, key in zip(checked.valid, keys, strict=True) if key not in stored]
    states, _ = _cases(fresh, actor="dry-run", now=now, rules=rt.rules, errors=errors, file_name=path.name)
    values: dict[str, list[ValueCount]] = {}
    for name in CHOICE_FIELDS:
        if name not in ledger.fields:
            continue
        counts = Counter(row.values.get(name, "") for row in ledger.rows)
        values[name] = [ValueCount(text, words.code_of(name, text), n)
                        for text, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if text]
    days = [local_date(row.draft.received_at) for row in checked.valid]
    days += _parsed_receipts(ledger.rows, {e.row for e in errors})
    return Preview(ledger, values, tuple(sorted(errors, key=lambda e: e.row)), len(states), len(stored),
                   sum(1 for row in checked.valid if row.township_only), min(days, default=None),
                   max(days, default=None), tuple(sorted(ledger.fields & PERSONAL_FIELDS)))


def _parsed_receipts(rows: Sequence[RawRow], failing: set[int]) -> list[date]:
    """The receipt days of failing rows whose receipt itself reads, so the period covers the whole file."""
    days = []
    for row in rows:
        if row.number in failing and (text := row.values.get("received_at")):
            try:
                days.append(local_date(ledger_time(text)))
            except TimeTextError:
                continue
    return days


class _Refused(Exception):
    """An all-or-nothing import met a case the write path refuses: the transaction rolls back."""


_PROGRESS_ROWS = 2000
"""Rows checked between two progress reports."""


def _checked(raw: Sequence[RawRow], context: CheckContext, report: Progress | None) -> CheckResult:
    """``check_rows`` over the whole file, a slice at a time when someone watches the progress."""
    if report is None:
        return check_rows(raw, context)
    repeats = file_repeats(raw, context.words)
    valid: list[ImportRow] = []
    errors: list[RowError] = []
    for start in range(0, len(raw), _PROGRESS_ROWS):
        part = check_rows(raw[start : start + _PROGRESS_ROWS], context, repeats)
        valid += part.valid
        errors += part.errors
        report(min(start + _PROGRESS_ROWS, len(raw)), len(raw))
    return CheckResult(valid, errors)


def _cases(rows: Sequence[ImportRow], *, actor: str, now: datetime, rules: Rules, errors: list[RowError],
           file_name: str, kept: list[ImportRow] | None = None) -> tuple[list[CaseState], list[tuple[Any, ...]]]:
    """Every row's case at the end of its replayed life, and its import event (led by the case's
    index, noting the file row); a case the write path refuses becomes a row error. ``kept``, when
    given, receives the rows whose case was built, in the order of the states."""
    states: list[CaseState] = []
    events: list[tuple[Any, ...]] = []
    for row in rows:
        try:
            state = replayed_case(row.draft, row.place, status=row.status, resolved_at=row.resolved_at,
                                  satisfaction=row.satisfaction, actor=actor, now=now, rules=rules)
        except (FieldError, TransitionError) as error:
            column = (error.field or "") if isinstance(error, FieldError) else "status"
            errors.append(RowError(row.number, column, "", str(error)))
            continue
        events.append((len(states), *import_event(row.status, actor=actor, now=now, note=f"{file_name}:{row.number}")))
        states.append(state)
        if kept is not None:
            kept.append(row)
    return states, events


def import_event(status: Status, *, actor: str, now: datetime, note: str) -> tuple[Any, ...]:
    """The one event an imported case gets, in ``bulk_cases.EVENT_COLUMNS`` order: brought in by
    ``actor`` at ``now`` in ``status``. A file gives no time for the steps between receipt and
    resolution, so the import records no invented ones."""
    return (now, actor, Action.import_.value, None, status.value, note)


def push_contributions(client: redis.Redis, county: str, cases: Sequence[tuple[int, Contribution]], *,
                       ensure_built: Callable[[], None] | None = None, wait_seconds: float = 60.0,
                       retry_seconds: float = 0.5) -> int | None:
    """Apply the committed import's cases to the aggregates and publish once, waiting for Redis.

    The cases are committed by now, and a server's repair thread knows nothing of them: only this
    process can bring Redis level. So a Redis that does not answer, or a rebuild under way
    (``aggregates.RebuildUnderWay``), is waited for up to ``wait_seconds`` and retried (applying is
    idempotent, and a Redis that came back empty is rebuilt from SQL, the import included, by
    ``ensure_built``). Returns the aggregate version, or ``None`` if Redis never answered; the
    caller must then say that ``cache rebuild`` is needed.
    """
    deadline = time.monotonic() + wait_seconds
    retrying = False
    while True:
        try:
            if retrying and ensure_built is not None and not aggregates.is_built(client, county):
                ensure_built()
                version = aggregates.version(client, county)
                redis_changes.publish_change(client, county, version)
                return version
            return apply_and_publish(client, county, cases, fresh=True)
        except (redis.RedisError, OSError):  # aggregates.RebuildUnderWay included: wait for the rebuild
            if time.monotonic() >= deadline:
                log.error("Redis did not take the import's aggregates after its commit: the cases are stored, "
                          "the screens miss them until `python -m dashboard cache rebuild`", exc_info=True)
                return None
            log.warning("Redis did not take the import's aggregates; retrying for up to %.0f s", wait_seconds,
                        exc_info=True)
            retrying = True
            time.sleep(retry_seconds)
