"""regions: cities and provinces above the county; source systems bound to an area

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:10:00

Adds the ``region`` table (a city or a province: code, name, level, parent, outline) and
``api_client.area_code``: a source system may be held to a county, a city or a province, as users
and walls already are. Existing clients keep ``NULL``: every county the deployment serves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("outline", sa.Text(), nullable=True),
        sa.Column("imported_at", data_access.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_region_parent_code", "region", ["parent_code"])
    with op.batch_alter_table("api_client") as batch:
        batch.add_column(sa.Column("area_code", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        batch.drop_column("area_code")
    op.drop_index("ix_region_parent_code", table_name="region")
    op.drop_table("region")
