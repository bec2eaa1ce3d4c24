"""Live path benchmark: committed write → painted screen, one screen and N screens, and bytes.

Starts its own server on the embedded default (SQLite + embedded Redis) in a temporary folder
with the demo county and 30 days of history, so it measures the product as ``make run`` runs it.

    python -m bench.live_latency [--quick] [--json] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Server:
    """A real ``python -m dashboard serve`` with the demo county, in a throw-away folder."""

    def __init__(self, var: Path, workers: int = 1) -> None:
        self.var = var
        self.workers = workers
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        # Every simulated screen signs in with the one bench wall's token, where a deployment has one
        # token per wall: lift the per-principal stream bound (8) above the largest fan-out.
        self.env.update(MEDIATION_VAR_DIR=str(var), PORT=str(self.port), MEDIATION_SCHEDULER="off",
                        MEDIATION_LIVE_STREAMS_PER_PRINCIPAL="2000")
        self.proc: subprocess.Popen[bytes] | None = None
        self.screen_url = ""
        self.cookies: dict[str, str] = {}

    def prepare(self, days: int) -> None:
        for args in (["db", "upgrade"], ["county", "ensure-demo"], ["demo", "backfill", "--days", str(days)]):
            subprocess.run([sys.executable, "-m", "dashboard", *args], env=self.env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Screens sign in with a wall's display token, as a real wall does.
        out = subprocess.run([sys.executable, "-m", "dashboard", "screens", "add", "bench-wall", "--base-url", self.url],
                             env=self.env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        self.screen_url = out.strip().splitlines()[-1]

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--workers", str(self.workers)],
                                     env=self.env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/status", timeout=2).status_code == 200:
                    signed = httpx.get(self.screen_url, timeout=30)
                    self.cookies = dict(signed.cookies)
                    httpx.get(f"{self.url}/api/live/state", cookies=self.cookies, timeout=30)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _writer(var: Path) -> Any:
    """A case service in this process, writing through the product's own write path."""
    os.environ["MEDIATION_VAR_DIR"] = str(var)
    from dashboard.runtime import Runtime
    from dashboard.settings import Settings

    return Runtime(Settings(database_url=f"sqlite:///{var / 'mediation.db'}", redis_url=None, var_dir=var))


def _write(rt: Any, n: int) -> tuple[float, float]:
    """Submit one case; returns the wall-clock ms at which the write started and at which it returned
    (committed, Redis aggregates applied, change published)."""
    from dashboard.cases.casework import CaseDraft
    from dashboard.domain.vocabulary import Category, Source

    grid = sorted(rt.cases.places())[n % 1000]
    started = time.time() * 1000
    now = rt.clock()
    rt.cases.submit(CaseDraft(source=Source.online, external_ref=f"bench-{time.time_ns()}", category=Category.debt,
                              received_at=now, grid_code=grid), actor="bench", now=now)
    return started, time.time() * 1000


ARRIVALS = """
window.__arrivals = [];
const NativeEventSource = window.EventSource;
window.EventSource = function (url, options) {
  const source = new NativeEventSource(url, options);
  source.addEventListener('delta', () => window.__arrivals.push(performance.timeOrigin + performance.now()));
  return source;
};
window.EventSource.prototype = NativeEventSource.prototype;
"""
"""Installed before the page's own scripts: notes when each delta message reaches the page."""

OBSERVE = """
window.__painted = [];
const target = document.getElementById('kpi-received_today');
new MutationObserver(() => requestAnimationFrame(() => window.__painted.push(performance.timeOrigin + performance.now())))
  .observe(target, {childList: true, characterData: true, subtree: true});
"""


def _browser(url: str, screen_url: str) -> Any:
    sys.path.insert(0, str(ROOT))
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.conftest import chrome

    driver = chrome(1920, 1080, screen=False)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ARRIVALS})
    driver.get(screen_url)
    WebDriverWait(driver, 60, poll_frequency=0.2).until(
        lambda d: d.execute_script("return window.mediationMap && window.mediationMap.styledCount() > 1000 "
                                   "&& window.mediationLive.received > 0"))
    time.sleep(1)
    driver.execute_script(OBSERVE)
    return driver


def change_to_pixel(rt: Any, driver: Any, writes: int) -> list[dict[str, float]]:
    """Per write: the whole latency and its parts (the write itself, server and wire, the browser)."""
    samples = []
    for n in range(writes):
        seen, heard = driver.execute_script("return [window.__painted.length, window.__arrivals.length]")
        started, written = _write(rt, n)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            painted, arrivals = driver.execute_script("return [window.__painted, window.__arrivals]")
            if len(painted) > seen:
                arrived = arrivals[heard] if len(arrivals) > heard else painted[seen]
                samples.append({"total": painted[seen] - started, "write": written - started,
                                "server_and_wire": arrived - written, "browser": painted[seen] - arrived})
                break
            time.sleep(0.05)  # the page stamps its own times; polling only waits, and must not load the CPU it measures
        time.sleep(0.3)
    return samples


class _Screen(asyncio.Protocol):
    """A lightweight screen: one ``/api/live/stream`` over a raw socket.

    A real screen is another machine; here a thousand share this process and one core with the
    write, so the receive path does the least it can: ``data_received`` only notes the time and
    keeps the bytes, and the events are read out after the run (``arrivals``).
    """

    def __init__(self, request: bytes, ready: list[int], done: asyncio.Event, wanted: int) -> None:
        self.request = request
        self.chunks: list[tuple[float, bytes]] = []
        self.ready, self.done, self.wanted = ready, done, wanted
        self.started = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.time() * 1000, data))
        if not self.started and b"event: full" in b"".join(chunk for _, chunk in self.chunks[-2:]):
            self.started = True  # the marker may straddle two reads
            self.ready[0] += 1
            if self.ready[0] == self.wanted:
                self.done.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def arrivals(self) -> list[tuple[float, str, int]]:
        """(ms received, today's received count, message bytes) of every delta that carries the count.

        Each message is written as one HTTP chunk, so it is whole within the stream's bytes; its
        arrival is the time of the read that brought its last byte.
        """
        found: list[tuple[float, str, int]] = []
        stream = b"".join(data for _, data in self.chunks)
        ends, total = [], 0
        for at, data in self.chunks:
            total += len(data)
            ends.append((total, at))
        position = 0
        for match in _DELTA.finditer(stream):
            while ends[position][0] < match.end():
                position += 1
            body = orjson.loads(match.group(1))
            if "received_today" in body["kpis"]:
                found.append((ends[position][1], body["kpis"]["received_today"], len(match.group(1))))
        return found


_DELTA = re.compile(rb"event: delta\ndata: (.*?)\n\n")


async def fan_out(url: str, cookies: dict[str, str], rt: Any, clients: int, writes: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("http://").split(":")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request = (f"GET /api/live/stream HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
               f"Cookie: {cookie}\r\n\r\n").encode()
    ready, done = [0], asyncio.Event()
    screens: list[_Screen] = []
    for _ in range(clients):
        transport, screen = await loop.create_connection(lambda: _Screen(request, ready, done, clients), host, int(port))
        screens.append(screen)
    try:
        await asyncio.wait_for(done.wait(), 120)
    except TimeoutError:
        lost = sum(screen.closed.done() for screen in screens)
        raise RuntimeError(f"{clients} screens: after 120 s only {ready[0]} had their first message "
                           f"({lost} connections closed)") from None
    starts = []
    for n in range(writes):
        started, _ = await asyncio.to_thread(_write, rt, n)
        starts.append(started)
        await asyncio.sleep(1.0)
    await asyncio.sleep(2.0)
    for screen in screens:
        screen.transport.close()
    arrivals = [screen.arrivals() for screen in screens]
    sizes = [size for mine in arrivals for _, _, size in mine]
    latencies, coalesced = [], 0
    for mine in arrivals:
        for start, nxt in zip(starts, starts[1:] + [float("inf")], strict=True):
            hit = [t for t, _, _ in mine if start <= t < nxt]
            if hit:
                latencies.append(hit[0] - start)
            else:
                coalesced += 1  # this write arrived merged into the next delta (the hub was still busy)
    final = max((value for mine in arrivals for _, value, _ in mine), key=lambda v: int(v.replace(",", "")))
    stale = sum(1 for mine in arrivals if not mine or mine[-1][1] != final)
    return {"clients": clients, "writes": writes, "p50_ms": _pct(latencies, 0.5), "p95_ms": _pct(latencies, 0.95),
            "coalesced": coalesced, "clients_not_at_final_value": stale,
            "delta_bytes_median": statistics.median(sizes) if sizes else None}


def _fresh_rate_window() -> None:
    """Wait for the next minute: every bench screen signs in as the same wall, and the server
    allows one principal 1,200 API requests a minute (``SecurityConfig.api``), which 100 + 500 +
    1,000 stream requests within one minute would pass; 1,000 real walls are 1,000 principals."""
    time.sleep(60 - time.time() % 60 + 0.5)


RESTYLE = """
const codes = Object.keys(window.mediationLive.values).filter(c => c.length === 15);
const runs = (fn) => { const t = []; for (let i = 0; i < 15; i++) { const s = performance.now(); fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); return t[7]; };
return {changed_4: runs(() => window.mediationMap.restyle(codes.slice(0, 4))),
        all: runs(() => window.mediationMap.restyleAll()), features: codes.length};
"""


def restyle_cost(driver: Any) -> dict[str, float]:
    """Median ms to restyle 4 changed features vs every feature (what a hideout change costs)."""
    return driver.execute_script(RESTYLE)


def first_load_bytes(driver: Any) -> dict[str, int]:
    entries = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(e => [e.name, e.transferSize, e.decodedBodySize])")
    streams = [e for e in entries if "/api/live/stream" in e[0]]
    files = [e for e in entries if e not in streams]
    return {"transferred": sum(e[1] for e in files), "decoded": sum(e[2] for e in files), "requests": len(files)}


def run(quick: bool = False, workers: int = 1) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        var = Path(folder)
        server = Server(var, workers)
        server.prepare(days=7 if quick else 30)
        server.start()
        rt = _writer(var)
        try:
            driver = _browser(server.url, server.screen_url)
            try:
                one = change_to_pixel(rt, driver, 10 if quick else 40)
                load = first_load_bytes(driver)
                restyle = restyle_cost(driver)
            finally:
                driver.quit()
            fans = []
            for n in (50,) if quick else (100, 500, 1000):
                if n >= 500:
                    _fresh_rate_window()
                fans.append(asyncio.run(fan_out(server.url, server.cookies, rt, n, 3 if quick else 8)))
        finally:
            server.stop()
            from data_access.redis_connection import stop_embedded_redis

            stop_embedded_redis(var)
            rt.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_workers": workers,
        "one_screen_change_to_pixel": {
            "writes": len(one), "p50_ms": _pct([s["total"] for s in one], 0.5),
            "p95_ms": _pct([s["total"] for s in one], 0.95),
            "parts_ms": {part: {"p50": _pct([s[part] for s in one], 0.5), "p95": _pct([s[part] for s in one], 0.95)}
                         for part in ("write", "server_and_wire", "browser")},
            "samples_ms": one,
        },
        "screens": fans,
        "first_load": load,
        "restyle_ms": restyle,
    }


def table(result: dict[str, Any]) -> str:
    rows = [("one screen, write → painted KPI (Chromium)", f"{result['one_screen_change_to_pixel']['p50_ms']:.0f}",
             f"{result['one_screen_change_to_pixel']['p95_ms']:.0f}", "")]
    for part, label in (("write", "the write (commit, Redis, publish)"), ("server_and_wire", "server hub and stream"),
                        ("browser", "browser: message → painted")):
        numbers = result["one_screen_change_to_pixel"]["parts_ms"][part]
        rows.append((f"  of which {label}", f"{numbers['p50']:.0f}", f"{numbers['p95']:.0f}", ""))
    for fan in result["screens"]:
        rows.append((f"{fan['clients']} screens, write → event received", f"{fan['p50_ms']:.0f}", f"{fan['p95_ms']:.0f}",
                     f"coalesced {fan['coalesced']}, not at final value {fan['clients_not_at_final_value']}, "
                     f"delta {fan['delta_bytes_median']} B"))
    load = result["first_load"]
    lines = [f"{'measure':<46} {'p50 ms':>8} {'p95 ms':>8}  note", "-" * 90]
    lines += [f"{a:<46} {b:>8} {c:>8}  {d}" for a, b, c, d in rows]
    lines.append(f"first load of the wall: {load['transferred'] / 1024:.0f} KB transferred "
                 f"({load['decoded'] / 1024:.0f} KB decoded) in {load['requests']} requests")
    lines.append(f"restyle in the browser: {result['restyle_ms']['changed_4']:.2f} ms for 4 changed grids, "
                 f"{result['restyle_ms']['all']:.2f} ms for all {result['restyle_ms']['features']} (median of 15)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes of the server under test (2 uses both cores)")
    args = parser.parse_args()
    result = run(args.quick, args.workers)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "live_latency.json" if args.workers == 1 else f"live_latency-{args.workers}workers.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
