"""ORM models: the same schema on PostgreSQL and SQLite (geometry kept as GeoJSON text)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite has no 64-bit autoincrement BIGINT; INTEGER there is 64-bit anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offsets, so we never store one."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class County(Base):
    __tablename__ = "county"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    outline: Mapped[str] = mapped_column(Text, doc="GeoJSON geometry, WGS84")
    seat_lon: Mapped[float] = mapped_column(Float)
    seat_lat: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Region(Base):
    """An area above the county: a city (地级市) groups counties, a province groups cities.

    Which counties a region holds follows from the national division codes (a county's code starts
    with its city's first four digits, a city's with its province's first two:
    ``dashboard.domain.area_scope``); ``parent_code`` names the province of a city for listing."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16), doc="city or province")
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    outline: Mapped[str | None] = mapped_column(Text, doc="GeoJSON geometry, WGS84; None when none was given")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Township(Base):
    __tablename__ = "township"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    geometry: Mapped[str] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, default=True)


class Village(Base):
    __tablename__ = "village"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("township.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    geometry: Mapped[str] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, default=True)


class Grid(Base):
    __tablename__ = "grid"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("village.code"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    geometry: Mapped[str] = mapped_column(Text)
    generated: Mapped[bool] = mapped_column(Boolean, default=True)


class Center(Base):
    """A one-stop centre (矛调中心); ``area_code`` is the county, township or village it serves."""

    __tablename__ = "center"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(String(15), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(96))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)

    departments: Mapped[list[Department]] = relationship(back_populates="center")


class Department(Base):
    """A unit stationed in a centre (常驻 / 轮驻 / 随叫随驻)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("center_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    residency: Mapped[str] = mapped_column(String(16))

    center: Mapped[Center] = relationship(back_populates="departments")


_OPEN = text("resolved_at IS NULL")


class Case(Base):
    """One dispute; the row holds the current state, ``case_event`` the history."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("source", "external_ref", name="uq_case_source_ref"),
        # Also carries what a county's counts read (0012): with many counties on one system a county's
        # rows lie spread over the table, and the counts are answered from the index alone.
        Index("ix_case_county_received", "county_code", "received_at", postgresql_include=[
            "id", "resolved_at", "due_at", "resolved_tier", "satisfaction", "people_involved", "risk_extreme",
            "risk_mass_incident", "beyond_county_petition", "repeat_petition", "township_code"]),
        # Every query of open cases says ``resolved_at IS NULL``; indexing only those rows keeps the
        # index a hundredth of the table's size, and a history import of closed cases never touches it.
        Index("ix_case_county_open", "county_code", "due_at", postgresql_where=_OPEN, sqlite_where=_OPEN),
        Index("ix_case_grid_received", "grid_code", "received_at"),
        Index("ix_case_village_received", "village_code", "received_at"),  # duplicate candidates (0007)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(24))
    external_ref: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text, default="")
    people_involved: Mapped[int] = mapped_column(Integer, default=1)
    risk_extreme: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_mass_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    beyond_county_petition: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_petition: Mapped[bool] = mapped_column(Boolean, default=False)

    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    township_code: Mapped[str] = mapped_column(String(12))
    village_code: Mapped[str] = mapped_column(String(15))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)

    status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16), doc="tier now handling the case")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    first_receiver: Mapped[str] = mapped_column(String(64), doc="首问: who first took the case")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, doc="a duty officer has seen the alert")
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    party_name: Mapped[str | None] = mapped_column(String(64), doc="personal data: masked in every view")
    party_phone: Mapped[str | None] = mapped_column(String(32), doc="personal data: masked in every view")
    party_id_number: Mapped[str | None] = mapped_column(String(32), doc="personal data: masked in every view")
    address: Mapped[str | None] = mapped_column(String(255), doc="personal data: masked in every view")

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="deadline of the current stage")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_tier: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(Text)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[str | None] = mapped_column(String(16))

    alert_level: Mapped[str | None] = mapped_column(String(8), doc="level at the last change")
    alert_reasons: Mapped[str] = mapped_column(String(255), default="", doc="comma-separated codes")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseEvent(Base):
    """Append-only log: one row per change (who, when, from, to, note)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="events")


class HandoverNote(Base):
    """What one duty shift tells the next (交接班); append-only like the event log."""

    __tablename__ = "handover_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)


class ApiClient(Base):
    """A source system allowed to post cases; only a hash of its token is stored."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(24), doc="the only source this client may report as")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    area_code: Mapped[str | None] = mapped_column(
        String(12), doc="the county, city or province whose cases this client may report and read; None: any served")


class User(Base):
    """A person who signs in (admin, leader, duty officer); only an Argon2 hash of the password is kept."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    county_code: Mapped[str | None] = mapped_column(String(12), doc="the county this user works for; None: any")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Screen(Base):
    """A wall display bound to one county; it signs in with a display token (only its hash is kept)."""

    __tablename__ = "screen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    county_code: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AggregateOwed(Base):
    """The outbox: a committed case whose Redis aggregates may not be applied yet.

    The writer adds a row in the same transaction as the case and deletes it once Redis took the
    case; whatever a crash or an outage leaves here is applied by any process that drains it
    (``data_access.outbox``). Several rows may name one case: applying is idempotent per case."""

    __tablename__ = "aggregate_owed"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    case_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what to which record, from where; append-only."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_actor_action_at", "actor", "action", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="", doc="JSON text")
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str | None] = mapped_column(String(64), doc="hash of the entry before (dashboard.domain.audit_chain)")
    hash: Mapped[str | None] = mapped_column(String(64), doc="SHA-256 over this entry's fields and prev_hash")


class AuditChainHead(Base):
    """The one row naming the audit chain's last entry: appends lock it, so concurrent writers
    append one after another and never fork the chain (``data_access.audit.record``)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class PartyKey(Base):
    """A keyed hash (HMAC) of one party's phone or ID number per case: the same person across
    cases, never the number (``dashboard.domain.party_keys``). Never leaves the database."""

    __tablename__ = "party_key"
    __table_args__ = (Index("ix_party_key_key_received", "key", "received_at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatterSuggestion(Base):
    """A possible duplicate found when ``case_id`` arrived: the older ``other_id``, the score and
    its reasons (JSON ``[[code, value], …]``). ``state``: open, dismissed or merged."""

    __tablename__ = "matter_suggestion"
    __table_args__ = (UniqueConstraint("case_id", "other_id", name="uq_matter_suggestion_pair"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[str] = mapped_column(String(12), default="open")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class Matter(Base):
    """One underlying dispute (事项) that several cases were merged into; ``lead_case_id`` drives
    the alert and is the one case the wall shows."""

    __tablename__ = "matter"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    lead_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class MatterMember(Base):
    """A case merged into a matter (a case in no matter is its own matter). Every case keeps its
    own row and event log; unmerging deletes this row."""

    __tablename__ = "matter_member"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_by: Mapped[str] = mapped_column(String(64))


class ReportDocument(Base):
    """One generated report file (DOCX or PDF) with its hash; a new generation is a new version
    beside the old, never over it (``data_access.report_archive``). The unique key is also the
    lock that keeps two processes from filing the same version twice."""

    __tablename__ = "report_document"
    __table_args__ = (
        UniqueConstraint("county_code", "kind", "period", "area_code", "lang", "format", "version",
                         name="uq_report_document_version"),
        Index("ix_report_document_county_at", "county_code", "generated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(10), doc="2025-06-02, 2025-W23 or 2025-06")
    period_first: Mapped[date] = mapped_column(Date)
    area_code: Mapped[str] = mapped_column(String(15))
    lang: Mapped[str] = mapped_column(String(2))
    format: Mapped[str] = mapped_column(String(4), doc="docx or pdf")
    version: Mapped[int] = mapped_column(Integer)
    issue: Mapped[int] = mapped_column(Integer, doc="第N期, counted per county, area, kind and year")
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class AreaWarning(Base):
    """预警: an area × category whose recent count is improbable under its own baseline
    (DESIGN.md "Early warning"). Written only by the warnings job (``dashboard.warnings.job``);
    a row is open while the area keeps warning and is closed (``cleared_at``) when it stops, so
    every process and screen sees the same set. No personal data: counts and place names only."""

    __tablename__ = "area_warning"
    __table_args__ = (Index("ix_area_warning_county_open", "county_code", "cleared_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(String(20))
    area_level: Mapped[str] = mapped_column(String(16), doc="county, township, village or grid")
    category: Mapped[str] = mapped_column(String(24))
    window_days: Mapped[int] = mapped_column(Integer)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    reason_zh: Mapped[str] = mapped_column(String(255))
    reason_en: Mapped[str] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
