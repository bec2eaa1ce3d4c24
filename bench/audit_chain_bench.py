"""The audit chain's cost: appends (one transaction each, as the product writes them) with the
chain against plain inserts of the same rows, appends from 8 threads at once (they take turns on the
chain head), and ``audit verify``'s reading speed.

``python -m bench.audit_chain_bench [--entries 2000] [--json]``

Runs in PostgreSQL schema ``bench_audit`` (``BENCH_DATABASE_URL``), dropped at the end. Results:
``bench/results/audit_chain.json``. Audited acts are people's acts (sign-ins, reveals, duty
actions), a few per second at the busiest; the chain must leave them far below a second and keep
``audit verify`` of a year's log (about a million entries) within minutes.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.table import Column, render
from bench.volume import BASE_URL
from data_access import audit
from data_access.database import make_engine, make_session_factory
from data_access.migrate import upgrade
from data_access.models import AuditEntry

SCHEMA = "bench_audit"
RESULTS = Path(__file__).resolve().parent / "results" / "audit_chain.json"
THREADS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    admin = make_engine(BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    url = f"{BASE_URL}{'&' if '?' in BASE_URL else '?'}options=-csearch_path%3D{SCHEMA}"
    rows: list[dict[str, object]] = []
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        n = args.entries

        def timed(what: str, count: int, work) -> None:  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            work()
            seconds = time.perf_counter() - start
            rows.append({"what": what, "entries": count, "seconds": seconds, "per_second": count / seconds,
                         "ms_each": 1000 * seconds / count})

        def plain() -> None:
            for k in range(n):
                with sessions() as session, session.begin():
                    session.add(AuditEntry(at=datetime.now(UTC), actor="值班员", role="duty_officer", action="reveal",
                                           target=f"case:{k}", detail='{"reason": "回访"}', ip="10.0.0.8"))

        def chained(count: int, who: str = "值班员") -> None:
            for k in range(count):
                with sessions() as session, session.begin():
                    audit.record(session, actor=who, role="duty_officer", action="reveal", target=f"case:{k}",
                                 detail={"reason": "回访"}, ip="10.0.0.8")

        def concurrent() -> None:
            threads = [threading.Thread(target=chained, args=(n // THREADS, f"值班员{t}")) for t in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        timed("plain insert, no chain (baseline)", n, plain)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entry"))
        timed("chained append, 1 thread", n, lambda: chained(n))
        timed(f"chained append, {THREADS} threads", n // THREADS * THREADS, concurrent)
        found: list[audit.Verification] = []

        def verify() -> None:
            with sessions() as session:
                found.append(audit.verify(session))

        total = n + n // THREADS * THREADS
        timed("audit verify", total, verify)
        assert found[0].broken is None and found[0].checked == total, found[0]
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
    RESULTS.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "rows": rows}, ensure_ascii=False, indent=1))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    print(render(rows, [Column("what", "what"), Column("entries", "entries", ",d"), Column("seconds", "s", ".2f"),
                        Column("per_second", "per s", ",.0f"), Column("ms_each", "ms each", ".2f")]))


if __name__ == "__main__":
    main()
