"""matters: duplicate suggestions, merged matters, party keys

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 07:45:00

One matter across channels (issue 16): ``matter_suggestion`` holds the candidates found when a
case arrives, ``matter`` / ``matter_member`` the merges an officer made, ``party_key`` the keyed
hashes that recognise a repeat caller. ``ix_case_village_received`` lets the candidate finder
read one village's cases of a few days without scanning the county.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_case_village_received", "case", ["village_code", "received_at"])
    op.create_table(
        "party_key",
        sa.Column("case_id", _ID, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("received_at", data_access.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "key"),
    )
    op.create_index("ix_party_key_key_received", "party_key", ["key", "received_at"])
    op.create_table(
        "matter_suggestion",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("other_id", _ID, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("found_at", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("decided_at", data_access.models.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "other_id", name="uq_matter_suggestion_pair"),
    )
    op.create_index("ix_matter_suggestion_case_id", "matter_suggestion", ["case_id"])
    op.create_index("ix_matter_suggestion_other_id", "matter_suggestion", ["other_id"])
    op.create_table(
        "matter",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("lead_case_id", _ID, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("created_at", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matter_county_code", "matter", ["county_code"])
    op.create_table(
        "matter_member",
        sa.Column("case_id", _ID, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("matter_id", _ID, sa.ForeignKey("matter.id"), nullable=False),
        sa.Column("joined_at", data_access.models.UTCDateTime(), nullable=False),
        sa.Column("joined_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_matter_member_matter_id", "matter_member", ["matter_id"])


def downgrade() -> None:
    op.drop_index("ix_matter_member_matter_id", table_name="matter_member")
    op.drop_table("matter_member")
    op.drop_index("ix_matter_county_code", table_name="matter")
    op.drop_table("matter")
    op.drop_index("ix_matter_suggestion_other_id", table_name="matter_suggestion")
    op.drop_index("ix_matter_suggestion_case_id", table_name="matter_suggestion")
    op.drop_table("matter_suggestion")
    op.drop_index("ix_party_key_key_received", table_name="party_key")
    op.drop_table("party_key")
    op.drop_index("ix_case_village_received", table_name="case")
