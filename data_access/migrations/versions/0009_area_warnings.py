"""area warnings (预警)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 07:30:00

One row per area × category warning of the early-warning job: what was counted (window,
observed, expected, p), its reason in Chinese and English, when it was first and last seen,
when it cleared, and who acknowledged it. Counts and place names only, no personal data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_warning",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("area_level", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("reason_zh", sa.String(length=255), nullable=False),
        sa.Column("reason_en", sa.String(length=255), nullable=False),
        sa.Column("first_seen", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("cleared_at", data_access.models.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", data_access.models.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_area_warning_county_open", "area_warning", ["county_code", "cleared_at"])


def downgrade() -> None:
    op.drop_index("ix_area_warning_county_open", "area_warning")
    op.drop_table("area_warning")
