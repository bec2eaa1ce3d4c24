"""A process for the fault tests to kill with SIGKILL in the middle of its work.

``python -m tests.faults.crash_process write N PREFIX`` submits N cases through the write path and
prints ``written N``; ``write-publish-fails N PREFIX`` does the same with every Redis PUBLISH
failing (Redis answers, the announcement does not go out); ``rebuild LEASE`` starts a rebuild,
prints ``fenced`` once its fence is up and its SQL read is done, and never writes. Each then
waits to be killed. The settings come from the environment, as for ``dashboard serve``.
"""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

import redis

from dashboard.cases import cache_ops
from dashboard.runtime import Runtime
from dashboard.settings import load_settings
from tests.factories import draft


def _failing_publish(*_: object, **__: object) -> int:
    raise redis.ConnectionError("publish refused (fault test)")


def main(argv: list[str]) -> None:
    rt = Runtime(load_settings())
    mode = argv[0]
    if mode in ("write", "write-publish-fails"):
        if mode == "write-publish-fails":
            redis.Redis.publish = _failing_publish  # type: ignore[method-assign]
        count, prefix = int(argv[1]), argv[2]
        now = rt.clock()
        for n in range(count):
            rt.cases.submit(draft(n, now - timedelta(minutes=n + 1), external_ref=f"{prefix}{n}"), actor="fault-test")
        print(f"written {count}", flush=True)
    elif mode == "rebuild":
        lease = float(argv[1])
        county = rt.county_code()

        def hang_after_read(done: int, _total: int) -> None:
            if done == 1:
                print("fenced", flush=True)
                threading.Event().wait()

        with rt.sessions() as session:
            cache_ops.rebuild(session, rt.redis_admin, county, rt.rules, progress=hang_after_read, lease_seconds=lease)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
