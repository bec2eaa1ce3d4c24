"""open-cases index holds only open cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

Every query that used ``ix_case_county_open`` asks for ``resolved_at IS NULL``. Indexing only
those rows makes the index about a hundredth of the table's size. It also spares every closed
case an index entry: that entry was a quarter of PostgreSQL's work when a file of closed history
was imported. The old index is dropped and the partial one built in its place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_case_county_open", table_name="case")
    op.create_index("ix_case_county_open", "case", ["county_code", "due_at"],
                    postgresql_where=_OPEN, sqlite_where=_OPEN)


def downgrade() -> None:
    op.drop_index("ix_case_county_open", table_name="case")
    op.create_index("ix_case_county_open", "case", ["county_code", "resolved_at", "due_at"])
