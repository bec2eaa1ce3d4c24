"""duty console: acknowledgement on the case, shift handover notes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("acknowledged_at", data_access.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=64), nullable=True))
    op.create_table(
        "handover_note",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("at", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["county_code"], ["county.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_note_county_code", "handover_note", ["county_code"])
    op.create_index("ix_handover_note_at", "handover_note", ["at"])


def downgrade() -> None:
    op.drop_index("ix_handover_note_at", "handover_note")
    op.drop_index("ix_handover_note_county_code", "handover_note")
    op.drop_table("handover_note")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
