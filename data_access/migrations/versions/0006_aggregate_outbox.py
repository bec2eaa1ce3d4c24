"""aggregate outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:30:00

What Redis owes after a failure is recorded in the writer's own transaction (``aggregate_owed``),
so a process that dies while Redis is away loses nothing: any process drains the rows later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregate_owed",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", data_access.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_aggregate_owed_county_code", "aggregate_owed", ["county_code"])


def downgrade() -> None:
    op.drop_index("ix_aggregate_owed_county_code", table_name="aggregate_owed")
    op.drop_table("aggregate_owed")
