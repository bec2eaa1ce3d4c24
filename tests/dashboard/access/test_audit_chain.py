"""The audit log's hash chain: every entry carries the hash of the one before it; ``audit verify``
finds an altered, a deleted and an inserted entry, and concurrent writers keep one chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from dashboard.cli import app as cli
from dashboard.domain.audit_chain import GENESIS, ChainedFields, entry_hash
from dashboard.runtime import Runtime
from data_access import audit
from data_access.models import AuditChainHead, AuditEntry

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _write(runtime: Runtime, n: int, *, start: int = 0) -> list[int]:
    ids = []
    with runtime.sessions() as session, session.begin():
        for k in range(start, start + n):
            entry = audit.record(session, actor="值班员甲", role="duty_officer", action="acknowledge",
                                 target=f"case:{k}", detail={"note": f"第{k}次联系"}, ip="10.0.0.8",
                                 at=T0 + timedelta(minutes=k))
            ids.append(entry.id)
    return ids


def _verify(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.run(["audit", "verify"], runtime)
    return code, capsys.readouterr().out


def test_each_entry_carries_the_hash_of_the_one_before(runtime: Runtime) -> None:
    ids = _write(runtime, 3)
    with runtime.sessions() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        head = session.get(AuditChainHead, 1)
    assert [r.id for r in rows] == ids
    assert rows[0].prev_hash == GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
    for row in rows:
        fields = ChainedFields(at=row.at, actor=row.actor, role=row.role, action=row.action, target=row.target,
                               detail=row.detail, ip=row.ip)
        assert row.hash == entry_hash(fields, row.prev_hash or "")
    assert head is not None and (head.last_id, head.last_hash) == (ids[-1], rows[-1].hash)


def test_verify_passes_an_intact_chain(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    _write(runtime, 5)
    code, out = _verify(runtime, capsys)
    assert code == 0 and "intact: 5 entries" in out


def test_an_altered_detail_is_named(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _write(runtime, 5)
    with runtime.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == ids[2]).values(detail='{"note": "改过的"}'))
    code, out = _verify(runtime, capsys)
    assert code == 1 and f"entry #{ids[2]} was changed" in out


def test_a_deleted_entry_is_found_at_the_one_after_it(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _write(runtime, 5)
    with runtime.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.id == ids[1]))
    code, out = _verify(runtime, capsys)
    assert code == 1 and f"entry #{ids[2]} does not follow" in out


def test_deleting_the_last_entries_is_found_by_the_head(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _write(runtime, 4)
    with runtime.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.id >= ids[2]))
    code, out = _verify(runtime, capsys)
    assert code == 1 and f"the chain head names entry #{ids[-1]}" in out


def test_an_inserted_entry_is_found_even_with_a_well_formed_hash(runtime: Runtime,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A forger who knows the scheme chains the new row onto the entry before it; the entry after
    it still names the old predecessor, so the link breaks there."""
    base = 10**9
    with runtime.sessions() as session, session.begin():  # a legitimate chain at ids base, base+10, base+20
        previous, hashes = GENESIS, []
        for k in range(3):
            fields = ChainedFields(at=T0 + timedelta(minutes=k), actor="管理员", role="admin", action="assign",
                                   target=f"case:{k}", detail="{}", ip=None)
            digest = entry_hash(fields, previous)
            session.execute(insert(AuditEntry).values(id=base + 10 * k, at=fields.at, actor=fields.actor,
                                                      role=fields.role, action=fields.action, target=fields.target,
                                                      detail=fields.detail, ip=None, prev_hash=previous, hash=digest))
            previous = digest
            hashes.append(digest)
        session.merge(AuditChainHead(id=1, last_id=base + 20, last_hash=previous))
    assert _verify(runtime, capsys)[0] == 0
    forged = ChainedFields(at=T0 + timedelta(seconds=30), actor="值班员乙", role="duty_officer", action="reveal",
                           target="case:0", detail="{}", ip=None)
    first_hash = hashes[0]
    with runtime.engine.begin() as conn:
        conn.execute(insert(AuditEntry).values(id=base + 5, at=forged.at, actor=forged.actor, role=forged.role,
                                               action=forged.action, target=forged.target, detail=forged.detail,
                                               ip=None, prev_hash=first_hash, hash=entry_hash(forged, first_hash)))
    code, out = _verify(runtime, capsys)
    assert code == 1 and f"entry #{base + 10} does not follow" in out


def test_a_row_written_past_the_log_is_found(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    _write(runtime, 2)
    with runtime.engine.begin() as conn:
        row = conn.execute(insert(AuditEntry).values(at=T0, actor="x", role="admin", action="assign", target="",
                                                     detail="{}").returning(AuditEntry.id)).scalar_one()
    code, out = _verify(runtime, capsys)
    assert code == 1 and f"entry #{row} carries no hash" in out


def test_concurrent_writers_keep_one_chain(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    """Eight threads append 15 entries each, one transaction per entry; every entry links to the
    one before it in id order, so no two writers read the same head."""
    _write(runtime, 1)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            start.wait()
            for k in range(15):
                with runtime.sessions() as session, session.begin():
                    audit.record(session, actor=f"writer{n}", role="admin", action="assign", target=f"case:{k}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with runtime.sessions() as session:
        rows = list(session.execute(select(AuditEntry.prev_hash, AuditEntry.hash).order_by(AuditEntry.id)))
    assert len(rows) == 1 + 8 * 15
    assert len({r.prev_hash for r in rows}) == len(rows)  # a fork would give two entries the same predecessor
    code, out = _verify(runtime, capsys)
    assert code == 0, out
