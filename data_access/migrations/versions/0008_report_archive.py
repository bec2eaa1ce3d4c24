"""report archive

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 07:50:00

Every generated report (DOCX and PDF) is kept with its hash and its bytes: kind, period, area,
language, version, issue number (第N期), who generated it and when. The unique key on
(county, kind, period, area, language, format, version) keeps one row per version even when two
processes race, and a new generation adds a version instead of overwriting one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_document",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_first", sa.Date(), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issue", sa.Integer(), nullable=False),
        sa.Column("generated_at", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("generated_by", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("county_code", "kind", "period", "area_code", "lang", "format", "version",
                            name="uq_report_document_version"),
    )
    op.create_index("ix_report_document_county_at", "report_document", ["county_code", "generated_at"])


def downgrade() -> None:
    op.drop_index("ix_report_document_county_at", table_name="report_document")
    op.drop_table("report_document")
