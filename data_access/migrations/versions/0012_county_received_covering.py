"""a county's period index covers its figure queries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 11:00:00

With many counties on one system their cases arrive interleaved, so one county's rows lie spread
over the whole case table: a county's month touched one heap page per case instead of one per ~40
(issue 17's province benchmark, ``python -m bench.province_bench``). ``ix_case_county_received``
(county_code, received_at) now also carries, as included columns, what the tablet's and the
report's counts read (state, deadline, tier, satisfaction, the facts that make red and orange, the
township), so those counts are answered from the index, which is ordered by county whatever the
table's order. The key is unchanged, so every query that used the index still can. PostgreSQL
only (``INCLUDE``); SQLite serves one county and keeps the plain index.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INCLUDED = ["id", "resolved_at", "due_at", "resolved_tier", "satisfaction", "people_involved", "risk_extreme",
            "risk_mass_incident", "beyond_county_petition", "repeat_petition", "township_code"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_case_county_received", table_name="case")
    op.create_index("ix_case_county_received", "case", ["county_code", "received_at"], postgresql_include=INCLUDED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_case_county_received", table_name="case")
    op.create_index("ix_case_county_received", "case", ["county_code", "received_at"])
