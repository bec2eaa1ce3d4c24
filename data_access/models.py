"""ORM models: the same schema on PostgreSQL and SQLite (geometry kept as GeoJSON text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
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
        Index("ix_case_county_received", "county_code", "received_at"),
        # Every query of open cases says ``resolved_at IS NULL``; indexing only those rows keeps the
        # index a hundredth of the table's size, and a history import of closed cases never touches it.
        Index("ix_case_county_open", "county_code", "due_at", postgresql_where=_OPEN, sqlite_where=_OPEN),
        Index("ix_case_grid_received", "grid_code", "received_at"),
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


class AuditEntry(Base):
    """Who did what to which record, from where; append-only."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="", doc="JSON text")
    ip: Mapped[str | None] = mapped_column(String(45))
