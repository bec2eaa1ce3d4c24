"""The one periodic thread behind the scheduler, the outbox drain and the report schedule: a pass
that raises is logged and the next pass still runs; stop ends it."""

from __future__ import annotations

import logging

import pytest

from dashboard.cases.periodic import PeriodicThread
from tests.waiting import wait_until


def test_a_failing_pass_does_not_stop_the_next_and_stop_ends_the_thread(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []

    def work() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("the first pass fails")

    job = PeriodicThread("test-job", work, 0.01, first_wait=0.0)
    with caplog.at_level(logging.ERROR, logger="dashboard.cases.periodic"):
        job.start()
        wait_until(lambda: len(passes) >= 3, 5, message="passes after a failed one")
        job.stop()
    assert not job._thread.is_alive()
    assert any("test-job: a pass failed" in r.getMessage() for r in caplog.records)


def test_the_first_pass_waits_first_wait() -> None:
    passes: list[int] = []
    job = PeriodicThread("slow-start", lambda: passes.append(1), 0.01, first_wait=30.0)
    job.start()
    job.stop()
    assert passes == [], "stopped before the first wait was over: no pass ran"
