"""Soak: 200 screens follow the live stream through an accelerated day; does the server's memory settle?

A real ``python -m dashboard serve`` (embedded default, demo county, a little history) receives a
day's new cases (about 70) and their lifecycle events (assess, dispatch, mediate, resolve,
follow-up) through the HTTP API, squeezed into a few minutes, while 200 lightweight clients hold
``/api/live/stream``. The server process's RSS is sampled throughout; the goal is growth under
10 % after the warm-up.

    python -m bench.soak [--quick] [--clients 200] [--cases 70] [--minutes 4] [--json]

Writes ``bench/results/soak.json`` (``soak-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import orjson
import psutil

from bench.live_latency import ROOT, RESULTS, Server, _writer
from bench.table import Column, render
from dashboard.access.security import DISPLAY_COOKIE

GOAL_GROWTH = 0.10
WARM_UP_SHARE = 0.25
"""The first quarter of the day fills caches, pools and the hub's ring; growth is measured after it."""
LIFECYCLE = [("assess", {}), ("dispatch", {}), ("mediate", {}), ("resolve", {"outcome": "调解成功"}),
             ("follow_up", {"satisfaction": "satisfied"})]


@dataclass
class Screens:
    """What the lightweight screens saw."""

    events: list[int] = field(default_factory=list)
    last_value: list[str | None] = field(default_factory=list)
    reconnects: int = 0


async def _screen(url: str, display: str, i: int, seen: Screens, stop: asyncio.Event) -> None:
    """One wall screen (its display cookie, then its session): follow the stream; reconnect after
    a drop with the same cookies, as a browser's EventSource does."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=30), cookies={DISPLAY_COOKIE: display})
    while not stop.is_set():
        try:
            async with client.stream("GET", f"{url}/api/live/stream") as response:
                kind = ""
                async for line in response.aiter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind in ("full", "delta"):
                        seen.events[i] += 1
                        value = orjson.loads(line[6:]).get("kpis", {}).get("received_today")
                        if value is not None:
                            seen.last_value[i] = value
        except (httpx.HTTPError, asyncio.TimeoutError):
            pass
        seen.reconnects += 1
        await asyncio.sleep(2.0)
    await client.aclose()


def _schedule(cases: int, seconds: float, seed: int) -> list[tuple[float, int, str, dict[str, object]]]:
    """(second, case number, action, extra): arrivals spread over the day, each case moving on a
    few "hours" later; about one in five stays open at the end of the day."""
    rng = random.Random(seed)
    plan: list[tuple[float, int, str, dict[str, object]]] = []
    for n in range(cases):
        at = rng.uniform(0, seconds * 0.7)
        plan.append((at, n, "post", {}))
        steps = len(LIFECYCLE) if rng.random() < 0.8 else rng.randint(0, 3)
        for action, extra in LIFECYCLE[:steps]:
            at = min(seconds * 0.98, at + rng.uniform(0.02, 0.08) * seconds)
            plan.append((at, n, action, extra))
    return sorted(plan, key=lambda item: item[0])


async def _feed(url: str, token: str, grids: list[str], plan: list[tuple[float, int, str, dict[str, object]]],
                started: float, stamp: str) -> dict[str, int]:
    done = {"posted": 0, "events": 0, "refused": 0}
    ids: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as api:
        for at, n, action, extra in plan:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            if action == "post":
                body = {"external_ref": f"soak-{stamp}-{n}", "category": "neighbour",
                        "received_at": datetime.now(UTC).isoformat(), "location": {"grid_code": grids[n % len(grids)]},
                        "people_involved": 1 + n % 12}
                response = await api.post("/api/cases", json=body)
                if response.status_code in (200, 201):
                    ids[n] = response.json()["id"]
                    done["posted"] += 1
                else:
                    done["refused"] += 1
            elif n in ids:
                response = await api.post(f"/api/cases/{ids[n]}/events", json={"action": action, "actor": "soak",
                                                                                **extra})
                done["events" if response.status_code == 201 else "refused"] += 1
    return done


async def _sample(pid: int, samples: list[tuple[float, int]], started: float, stop: asyncio.Event) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        samples.append((time.monotonic() - started, proc.memory_info().rss))
        await asyncio.sleep(2.0)


async def soak(server: Server, token: str, display: str, grids: list[str], *, clients: int, cases: int,
               seconds: float) -> dict[str, Any]:
    assert server.proc is not None
    seen = Screens([0] * clients, [None] * clients)
    stop = asyncio.Event()
    screens = [asyncio.create_task(_screen(server.url, display, i, seen, stop)) for i in range(clients)]
    deadline = time.monotonic() + 120
    while sum(1 for n in seen.events if n) < clients and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    connected = sum(1 for n in seen.events if n)
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    sampler = asyncio.create_task(_sample(server.proc.pid, samples, started, stop))
    done = await _feed(server.url, token, grids, _schedule(cases, seconds, seed=20261123), started,
                       datetime.now(UTC).strftime("%H%M%S"))
    await asyncio.sleep(max(0.0, started + seconds - time.monotonic()) + 5.0)
    final = httpx.get(f"{server.url}/api/live/state", timeout=30, cookies={DISPLAY_COOKIE: display}).json()[
        "kpis"]["received_today"]
    stop.set()
    for task in [*screens, sampler]:
        task.cancel()
    await asyncio.gather(*screens, sampler, return_exceptions=True)

    warm = [rss for t, rss in samples if t <= seconds * WARM_UP_SHARE]
    after = [rss for t, rss in samples if t > seconds * WARM_UP_SHARE]
    baseline = statistics.median(warm[-3:]) if warm else samples[0][1]
    end = statistics.median(after[-3:]) if after else samples[-1][1]
    growth = (end - baseline) / baseline
    return {
        "clients": clients, "clients_connected": connected, "cases": cases, "seconds": seconds,
        "writes": done, "screen_events_median": statistics.median(seen.events),
        "screen_events_min": min(seen.events), "screens_at_final_value": sum(1 for v in seen.last_value if v == final),
        "stream_reconnects": seen.reconnects, "rss_start_mb": round(samples[0][1] / 2**20, 1),
        "rss_after_warm_up_mb": round(baseline / 2**20, 1), "rss_end_mb": round(end / 2**20, 1),
        "rss_peak_mb": round(max(rss for _, rss in samples) / 2**20, 1), "growth_after_warm_up": round(growth, 4),
        "goal_growth": GOAL_GROWTH, "goal_met": growth < GOAL_GROWTH,
        "samples": [(round(t, 1), round(rss / 2**20, 2)) for t, rss in samples],
    }


def _cli(server: Server, *args: str) -> str:
    """The last line a ``python -m dashboard`` command prints (tokens are printed once)."""
    done = subprocess.run([sys.executable, "-m", "dashboard", *args], env=server.env, cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def run(*, quick: bool, clients: int, cases: int, minutes: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        var = Path(tmp)
        server = Server(var)
        server.prepare(3 if quick else 30)
        token = _cli(server, "clients", "add", "--name", "soak", "--source", "grid_report")
        display = parse_qs(urlparse(_cli(server, "screens", "add", "soak")).query)["token"][0]
        rt = _writer(var)
        grids = sorted(rt.cases.places())
        rt.close()
        server.start()
        try:
            result = asyncio.run(soak(server, token, display, grids, clients=clients, cases=cases,
                                      seconds=minutes * 60))
        finally:
            server.stop()
    result.update(date=datetime.now(UTC).isoformat(timespec="seconds"), quick=quick,
                  load_average=[round(x, 2) for x in psutil.getloadavg()], cores=psutil.cpu_count())
    return result


def table(result: dict[str, Any]) -> str:
    rows = [
        {"measure": "screens connected", "value": f"{result['clients_connected']} / {result['clients']}"},
        {"measure": "day simulated", "value": f"{result['cases']} cases in {result['seconds'] / 60:.1f} min"},
        {"measure": "writes (posted / events / refused)",
         "value": "{posted} / {events} / {refused}".format(**result["writes"])},
        {"measure": "events per screen (median / min)",
         "value": f"{result['screen_events_median']} / {result['screen_events_min']}"},
        {"measure": "screens at the final value", "value": f"{result['screens_at_final_value']}"},
        {"measure": "stream reconnects", "value": f"{result['stream_reconnects']}"},
        {"measure": "server RSS start / after warm-up / end / peak",
         "value": f"{result['rss_start_mb']} / {result['rss_after_warm_up_mb']} / {result['rss_end_mb']} / "
                  f"{result['rss_peak_mb']} MB"},
        {"measure": "growth after warm-up (goal < 10 %)",
         "value": f"{result['growth_after_warm_up'] * 100:.1f} % ({'met' if result['goal_met'] else 'not met'})"},
    ]
    return render(rows, [Column("measure", "measure"), Column("value", "value")], markdown=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 minute, 3 days of history")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--cases", type=int, default=70, help="new cases in the simulated day")
    parser.add_argument("--minutes", type=float, help="length of the simulated day (default 4, quick 1)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    minutes = args.minutes or (1.0 if args.quick else 4.0)
    result = run(quick=args.quick, clients=args.clients, cases=args.cases, minutes=minutes)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("soak-quick.json" if args.quick else "soak.json")).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
