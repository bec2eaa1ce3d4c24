"""First load of the wall: every byte a fresh screen pulls, by kind, transferred and decoded.

Starts its own server on the embedded default (SQLite + embedded Redis) in a temporary folder with
the demo county and 30 days of history, opens the wall in Debian's headless Chromium at 1920×1080
with an empty cache, and reads Chromium's own network log (DevTools ``Network.*`` events).
"Transferred" is what crossed the wire for each response, headers included (``encodedDataLength``);
"decoded" is the body after gzip or brotli. The goal (issue 3) is ≤ 400 KB transferred.

It loads the wall twice, once per ``Accept-Encoding`` Chromium sends:

- ``br``: ``gzip, deflate, br, zstd``, what Chromium offers over HTTPS and to localhost;
- ``gzip``: ``gzip, deflate``, what it offers a plain-HTTP intranet address (``http://10.…``).

    python -m bench.first_load [--url URL] [--screenshot wall.png] [--json] [--no-save]

``--url`` measures a running server instead (give the link a screen opens, token included).
Results: ``bench/results/first_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from bench.table import Column, render
from data_access.redis_connection import stop_embedded_redis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GOAL_BYTES = 400 * 1024
KINDS = ("document", "js", "css", "fonts", "geometry", "api", "other")
PROFILES: dict[str, list[str]] = {"br": ["gzip", "deflate", "br", "zstd"], "gzip": ["gzip", "deflate"]}
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1920,1080", "--hide-scrollbars")
DRAWN = ("return !!(window.mediationMap && window.mediationMap.styledCount() >= arguments[0]"
         " && document.getElementById('kpi-open') && document.getElementById('kpi-open').textContent !== '—')")
COUNTY_SHAPES = 1700
"""Shapes a county wall has styled once drawn (its grids); a city wall draws its counties (``--shapes 9``)."""


@dataclass
class Resource:
    """One response as Chromium saw it; ``transferred`` includes its headers, as on the wire."""

    url: str
    kind: str
    status: int = 0
    encoding: str = ""
    transferred: int = 0
    decoded: int = 0
    finished: bool = False
    """False for the live event stream, still open when the load is over: it counts what arrived."""


def kind_of(url: str, devtools_type: str) -> str:
    """Group by what the bytes are for; geometry is split from the other API calls on purpose."""
    path = urlsplit(url).path
    if devtools_type == "Document":
        return "document"
    if devtools_type == "Font" or path.endswith((".woff2", ".woff", ".ttf")):
        return "fonts"
    if devtools_type == "Stylesheet" or path.endswith(".css"):
        return "css"
    if devtools_type == "Script" or path.endswith(".js"):
        return "js"
    if path.startswith("/api/geo/"):
        return "geometry"
    if path.startswith(("/api/", "/_dash-")):
        return "api"
    return "other"


def resources_from_log(entries: list[dict[str, Any]]) -> list[Resource]:
    """Fold DevTools network events into one row per response (a redirect is a row of its own)."""
    rows: dict[str, Resource] = {}
    headers_size: dict[str, int] = {}
    done: list[Resource] = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method", ""), message.get("params", {})
        rid = params.get("requestId", "")
        if method == "Network.requestWillBeSent":
            if rid in rows and "redirectResponse" in params:
                redirected = rows.pop(rid)
                redirected.status = int(params["redirectResponse"].get("status", 0))
                redirected.transferred = int(params["redirectResponse"].get("encodedDataLength", 0))
                redirected.finished = True
                done.append(redirected)
            url = params["request"]["url"]
            if not url.startswith("data:"):
                rows[rid] = Resource(url=url, kind=kind_of(url, params.get("type", "")))
        elif rid not in rows:
            continue
        elif method == "Network.responseReceived":
            response, row = params["response"], rows[rid]
            row.kind = kind_of(row.url, params.get("type", ""))
            row.status = int(response.get("status", 0))
            row.encoding = {k.lower(): v for k, v in response.get("headers", {}).items()}.get("content-encoding", "")
            headers_size[rid] = row.transferred = int(response.get("encodedDataLength", 0))
        elif method == "Network.dataReceived":
            rows[rid].decoded += int(params.get("dataLength", 0))
            rows[rid].transferred += int(params.get("encodedDataLength", 0))
        elif method == "Network.loadingFinished":
            rows[rid].transferred = int(params.get("encodedDataLength", rows[rid].transferred))
            rows[rid].finished = True
    for rid, row in rows.items():
        if not row.finished and row.encoding in ("", "identity"):
            # Chromium reports a stream's wire bytes only when it ends: plain text is its decoded size.
            row.transferred = max(row.transferred, headers_size.get(rid, 0) + row.decoded)
    return done + list(rows.values())


def _driver(encodings: list[str]) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": ", ".join(encodings)}})
    return driver


def load_wall(entry: str, encodings: list[str], screenshot: Path | None = None,
              settle_s: float = 2.0, shapes: int = COUNTY_SHAPES) -> list[Resource]:
    """Open the wall with an empty cache; stop once the map is drawn, fonts are in and the network is quiet."""
    driver = _driver(encodings)
    try:
        driver.get(entry)
        try:
            WebDriverWait(driver, 60, poll_frequency=0.2).until(lambda d: d.execute_script(DRAWN, shapes))
        except TimeoutException:
            raise RuntimeError(f"the wall was not drawn within 60 s at {driver.current_url}") from None
        driver.execute_async_script("var done = arguments[arguments.length - 1]; document.fonts.ready.then(done);")
        seen, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < settle_s:
            count = driver.execute_script("return performance.getEntriesByType('resource').length")
            if count != seen:
                seen, quiet_since = count, time.monotonic()
            time.sleep(0.2)
        if screenshot:
            driver.save_screenshot(str(screenshot))
        return resources_from_log(driver.get_log("performance"))
    finally:
        driver.quit()


def by_kind(resources: list[Resource]) -> list[dict[str, Any]]:
    rows = []
    for kind in (*KINDS, "total"):
        mine = [r for r in resources if kind in (r.kind, "total")]
        if mine:
            rows.append({"kind": kind, "requests": len(mine), "transferred": sum(r.transferred for r in mine),
                         "decoded": sum(r.decoded for r in mine)})
    return rows


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], env=env, cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _entry_url(env: dict[str, str], base: str) -> str:
    """Where a wall screen starts: its ``/screen?token=…`` link where screens need one, else ``/``."""
    added = _cli(env, "screens", "add", f"first-load-{os.getpid()}", "--base-url", base)
    links = [word for word in added.stdout.split() if word.startswith(base)]
    return links[-1] if added.returncode == 0 and links else base + "/"


@contextmanager
def own_server() -> Iterator[str]:
    """A real ``python -m dashboard serve`` with the demo county and 30 days, in a throw-away folder."""
    with tempfile.TemporaryDirectory(prefix="first-load-") as folder:
        port = _port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(MEDIATION_VAR_DIR=folder, PORT=str(port), MEDIATION_SCHEDULER="off")
        for args in (("db", "upgrade"), ("county", "ensure-demo"), ("demo", "backfill", "--days", "30"),
                     ("cache", "rebuild")):
            _cli(env, *args).check_returncode()
        entry = _entry_url(env, base)
        server = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(base + "/api/status", timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 90 s")
                time.sleep(0.3)
            yield entry
        finally:
            server.terminate()
            server.wait(timeout=30)
            stop_embedded_redis(Path(folder))


def warm_up(entry: str) -> None:
    """Make Dash read its assets folder first: it does so on its first ``/`` or ``/_dash-*`` request only,
    so a page served first at another path (``/screen``) would come without the app's CSS and JS."""
    parts = urlsplit(entry)
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        client.get(entry)  # a screen link signs this client in, like the browser
        client.get(f"{parts.scheme}://{parts.netloc}/_dash-layout")


def measure(entry: str, screenshot: Path | None = None, shapes: int = COUNTY_SHAPES) -> dict[str, Any]:
    warm_up(entry)
    profiles: dict[str, Any] = {}
    for name, encodings in PROFILES.items():
        resources = load_wall(entry, encodings, screenshot if name == "br" else None, shapes=shapes)
        kinds = by_kind(resources)
        profiles[name] = {"accept_encoding": ", ".join(encodings), "transferred": kinds[-1]["transferred"],
                          "goal_met": kinds[-1]["transferred"] <= GOAL_BYTES, "by_kind": kinds,
                          "resources": [asdict(r) for r in sorted(resources, key=lambda r: -r.transferred)]}
    return {"bench": "first_load", "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "goal_transferred_bytes": GOAL_BYTES, "profiles": profiles}


def report(result: dict[str, Any]) -> str:
    """Bytes by kind for both profiles side by side, then every response of the ``br`` load."""
    kb = ",.1f"
    br, gz = result["profiles"]["br"], result["profiles"]["gzip"]
    gzip_by_kind = {row["kind"]: row for row in gz["by_kind"]}
    rows = [{"kind": row["kind"], "requests": row["requests"], "br": row["transferred"] / 1024,
             "gzip": gzip_by_kind.get(row["kind"], {}).get("transferred", 0) / 1024, "decoded": row["decoded"] / 1024}
            for row in br["by_kind"]]
    kinds = render(rows, [Column("kind", "kind"), Column("requests", "requests"),
                          Column("br", "transferred KB (br)", kb), Column("gzip", "transferred KB (gzip only)", kb),
                          Column("decoded", "decoded KB", kb)])
    detail = [{"path": urlsplit(r["url"]).path[-64:], "kind": r["kind"], "encoding": r["encoding"] or "none",
               "transferred": r["transferred"] / 1024, "decoded": r["decoded"] / 1024} for r in br["resources"]]
    responses = render(detail, [Column("path", "response (br load)"), Column("kind", "kind"),
                                Column("encoding", "encoding"), Column("transferred", "transferred KB", kb),
                                Column("decoded", "decoded KB", kb)])
    verdicts = "\n".join(
        f"first load ({name}): {p['transferred'] / 1024:,.1f} KB transferred; goal ≤ {GOAL_BYTES // 1024} KB: "
        f"{'met' if p['goal_met'] else 'not met'}" for name, p in result["profiles"].items())
    return f"{kinds}\n\n{responses}\n\n{verdicts}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_load", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="measure a running server: the link a screen opens (token included)")
    parser.add_argument("--screenshot", type=Path, help="also save the loaded wall (br load) as a PNG")
    parser.add_argument("--shapes", type=int, default=COUNTY_SHAPES,
                        help="shapes styled when the wall is drawn (a county's grids; 9 for 吉林市's city wall)")
    parser.add_argument("--json", action="store_true", help="print the JSON result instead of tables")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/first_load.json")
    args = parser.parse_args(argv)
    if args.url:
        result = measure(args.url, args.screenshot, args.shapes)
    else:
        with own_server() as entry:
            result = measure(entry, args.screenshot)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "first_load.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=1, ensure_ascii=False) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
