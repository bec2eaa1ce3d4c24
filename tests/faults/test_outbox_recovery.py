"""Recovery with no one there: a writer killed (SIGKILL) while Redis owes it cases leaves them in
the outbox, and a restarted app process applies them with no ``cache rebuild``; a rebuild killed
in the middle holds writers back only for its short lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import redis

from dashboard.cases import cache_ops
from dashboard.settings import PROJECT_ROOT
from data_access import aggregates, outbox
from data_access import redis_keys as keys
from tests.factories import draft
from tests.faults.conftest import Stack
from tests.faults.test_redis_fault import HEAL_SECONDS, differences, wait_until_equal
from tests.waiting import wait_until

WRITES = 30


class Child:
    """A ``tests.faults.crash_process`` process on the stack's servers, its output lines collected."""

    def __init__(self, stack: Stack, *args: str) -> None:
        env = {**os.environ, "DATABASE_URL": stack.pg.url, "REDIS_URL": stack.redis.url,
               "MEDIATION_VAR_DIR": str(stack.var)}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.faults.crash_process", *args], env=env,
                                        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
                                        stderr=open(stack.var / "crash-process.log", "a"))
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def said(self, line: str, seconds: float) -> None:
        wait_until(lambda: line in self.lines or self.process.poll() is not None, seconds,
                   message=f"the child process to say {line!r}")
        assert line in self.lines, f"the child process ended ({self.process.returncode}) without saying {line!r}"

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, nothing flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def stop_servers(stack: Stack) -> None:
    """No app process may drain the outbox before the test has looked at it."""
    for server in stack.servers:
        server.stop()
    stack.servers.clear()


def owed(stack: Stack) -> int:
    with stack.runtime.sessions() as session:
        return outbox.owed_cases(session, stack.county)


@contextmanager
def redis_with_its_data(stack: Stack, where: Path) -> Iterator[None]:
    """Redis restarted so that it keeps its (built) data: no rebuild would ever add the cases a
    dead writer owed, only the outbox can."""
    where.chmod(0o777)
    stack.redis.kill()
    stack.redis.start(keep_in=where)
    with stack.runtime.sessions() as session:
        cache_ops.rebuild(session, stack.runtime.redis_admin, stack.county, stack.runtime.rules)
    assert stack.runtime.redis.save()
    yield


def test_a_writer_killed_while_redis_is_away_loses_nothing(stack: Stack, tmp_path: Path) -> None:
    stop_servers(stack)
    with redis_with_its_data(stack, tmp_path):
        stack.redis.kill()
        writer = Child(stack, "write", str(WRITES), "away-")
        try:
            writer.said(f"written {WRITES}", 120)
        finally:
            writer.kill()
        assert owed(stack) == WRITES, "every committed case is in the outbox, in the writer's own transaction"
        stack.redis.start(keep_in=tmp_path)
        assert aggregates.is_built(stack.runtime.redis, stack.county)
        assert len(differences(stack)) > 0, "Redis came back without the dead writer's cases"
        stack.server()  # the restarted app; nobody runs `cache rebuild`
        wait_until_equal(stack, HEAL_SECONDS)
        wait_until(lambda: owed(stack) == 0, HEAL_SECONDS, message="the outbox drained")


def test_a_writer_killed_while_its_publish_fails_loses_nothing(stack: Stack) -> None:
    """Redis answers, but the writer's announcement fails: the cases stay owed (their later ones
    queue behind, unapplied), and another process applies them and announces the new version."""
    rt = stack.runtime
    stop_servers(stack)
    with rt.sessions() as session:
        cache_ops.rebuild(session, rt.redis_admin, stack.county, rt.rules)
    writer = Child(stack, "write-publish-fails", str(WRITES), "nopublish-")
    try:
        writer.said(f"written {WRITES}", 120)
    finally:
        writer.kill()
    assert owed(stack) == WRITES
    assert len(differences(stack)) > 0, "the cases queued behind the failed publish were never applied"
    heard: list[bytes] = []
    with redis.Redis.from_url(stack.redis.url) as listener, listener.pubsub() as pubsub:
        pubsub.subscribe(keys.changes_channel(stack.county))

        def announced() -> bool:
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                heard.append(message["data"])
            return bool(heard)

        stack.server()
        wait_until(announced, HEAL_SECONDS, interval=0, message="the drain to announce the new version")
    wait_until_equal(stack, HEAL_SECONDS)
    assert owed(stack) == 0


def test_a_killed_rebuild_stops_holding_writers_back_within_its_lease(stack: Stack) -> None:
    rt = stack.runtime
    stop_servers(stack)
    lease = 3.0
    rebuild = Child(stack, "rebuild", str(lease))
    try:
        rebuild.said("fenced", 60)
        fence = keys.rebuild_fence(stack.county)
        started = time.monotonic()

        def held_past_its_lease() -> bool:
            assert rt.redis.exists(fence), "a live rebuild keeps its fence up by renewing the lease"
            return time.monotonic() - started > 2.5 * lease

        wait_until(held_past_its_lease, 4 * lease, interval=0.1)
        case, _ = rt.cases.submit(draft(7, rt.clock() - timedelta(hours=1), external_ref="lease-1"), actor="fault-test")
        assert rt.cases.owed() == 1, "a write during a rebuild is owed until the fence is down"
    finally:
        rebuild.kill()
    killed = time.monotonic()
    wait_until(lambda: rt.cases.owed() == 0, lease + 5, interval=0.1,
               message="the writer to get through once the dead rebuild's lease lapsed")
    assert time.monotonic() - killed <= lease + 5
    assert not rt.redis.exists(keys.rebuild_fence(stack.county))
    wait_until_equal(stack, HEAL_SECONDS)
    assert case.id


