"""audit chain: each audit entry carries the hash of the one before it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:10:00

Adds ``prev_hash`` and ``hash`` to ``audit_entry``, the one-row ``audit_chain_head`` that appends
lock (so concurrent writers never fork the chain), and an index for counting one person's entries
of one action in a time window (the reveal quota). Entries already in the log are chained here, in
id order, from the genesis hash (``dashboard.domain.audit_chain.GENESIS``): the chain vouches for
them from this migration on, not for what happened to them before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import data_access.models
from dashboard.domain.audit_chain import GENESIS, ChainedFields, entry_hash

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_entry_actor_action_at", "audit_entry", ["actor", "action", "at"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    entries = sa.table("audit_entry", sa.column("id", sa.BigInteger()), sa.column("at", data_access.models.UTCDateTime()),
                       sa.column("actor", sa.String()), sa.column("role", sa.String()), sa.column("action", sa.String()),
                       sa.column("target", sa.String()), sa.column("detail", sa.Text()), sa.column("ip", sa.String()),
                       sa.column("prev_hash", sa.String()), sa.column("hash", sa.String()))
    bind = op.get_bind()
    previous, last_id = GENESIS, 0
    while True:
        rows = bind.execute(sa.select(entries.c.id, entries.c.at, entries.c.actor, entries.c.role, entries.c.action,
                                      entries.c.target, entries.c.detail, entries.c.ip)
                            .where(entries.c.id > last_id).order_by(entries.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            fields = ChainedFields(at=row.at, actor=row.actor, role=row.role, action=row.action,
                                   target=row.target or "", detail=row.detail or "", ip=row.ip)
            digest = entry_hash(fields, previous)
            bind.execute(entries.update().where(entries.c.id == row.id)
                         .values(prev_hash=previous, hash=digest, target=fields.target, detail=fields.detail))
            previous, last_id = digest, row.id
    op.bulk_insert(head, [{"id": 1, "last_id": last_id, "last_hash": previous}])


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_index("ix_audit_entry_actor_action_at", "audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
