"""Private servers for fault tests: a PostgreSQL cluster and a Redis that the tests may stop and
kill, and ``python -m dashboard serve`` processes on them. The shared servers are never touched."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from dashboard.access.security import DISPLAY_COOKIE
from dashboard.settings import PROJECT_ROOT, Settings
from dashboard.access.tokens import new_token, token_hash
from data_access import api_clients, users
from data_access.migrate import upgrade
from tests.factories import small_county
from tests.serving import wait_until_serving
from tests.waiting import wait_until

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
OUTLINE = '{"type":"Polygon","coordinates":[[[127,44],[127.8,44],[127.8,44.2],[127,44.2],[127,44]]]}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str) -> list[str]:
    """PostgreSQL refuses to run as root; the tests do."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@dataclass
class PrivatePostgres:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", "-l",
                                    str(self.data / "log"), "-o",
                                    f"-p {self.port} -k {self.data} -c fsync=off -c synchronous_commit=off "
                                    "-c full_page_writes=off", "start"),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop"),
                       check=True, stdout=subprocess.DEVNULL)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, keep_in: Path | None = None) -> None:
        """A fresh, empty server, as a restarted Redis comes back; with ``keep_in`` it loads the
        dump saved there (a restart that kept its data)."""
        where = ["--dir", str(keep_in), "--dbfilename", "dump.rdb"] if keep_in else []
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", *where], stdout=subprocess.DEVNULL)

        def answers() -> bool:
            with redis.Redis.from_url(self.url, socket_connect_timeout=0.5) as client:
                return bool(client.ping())

        wait_until(answers, 10, ignoring=(redis.RedisError,), message=f"the private redis-server on {self.port} to answer")

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, nothing saved."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Stack:
    pg: PrivatePostgres
    redis: PrivateRedis
    runtime: Runtime
    county: str
    token: str
    """A source system's API token."""
    display: str
    """A wall screen's display token (the live routes are for screens)."""
    var: Path
    servers: list[AppServer] = field(default_factory=list)

    def screen(self, **options: object) -> httpx.Client:
        """An HTTP client that is a wall screen of the county."""
        return httpx.Client(cookies={DISPLAY_COOKIE: self.display}, **options)  # type: ignore[arg-type]

    def server(self) -> AppServer:
        server = AppServer(self, free_port())
        server.start()
        self.servers.append(server)
        return server


@dataclass
class AppServer:
    stack: Stack
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> None:
        env = {**os.environ, "DATABASE_URL": self.stack.pg.url, "REDIS_URL": self.stack.redis.url,
               "PORT": str(self.port), "MEDIATION_VAR_DIR": str(self.stack.var), "MEDIATION_SCHEDULER": "off"}
        self.process = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=PROJECT_ROOT,
                                        stdout=subprocess.DEVNULL, stderr=open(self.stack.var / f"serve-{self.port}.log", "ab"))
        wait_until_serving(self.url, seconds=timeout, process=self.process,
                           log=f"{self.stack.var}/serve-{self.port}.log")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """A private PostgreSQL cluster (migrated, with the small test county and an API client) and a
    private Redis, for one test module; everything is removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="faults-"))
    data = root / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N",
                                "-E", "UTF8", "--locale=C"), check=True, stdout=subprocess.DEVNULL)
    pg = PrivatePostgres(data, free_port())
    pg.start()
    private_redis = PrivateRedis(free_port())
    private_redis.start()
    var = root / "var"
    var.mkdir()
    rt = Runtime(Settings(database_url=pg.url, redis_url=private_redis.url, var_dir=var))
    built: Stack | None = None
    try:
        upgrade(pg.url)
        token, display = new_token(), "mcs_" + new_token().removeprefix("mct_")
        with rt.sessions() as session, session.begin():
            report = onboarding.save_county(session, small_county(), name="测试县", now=datetime(2026, 1, 1, tzinfo=UTC),
                                            outline_geojson=OUTLINE)
            api_clients.create(session, name="hotline", source="hotline_12345", token_hash=token_hash(token),
                               now=rt.clock())
            users.create_screen(session, name="wall", county_code=report.county_code, token_hash=token_hash(display),
                                now=rt.clock())
        built = Stack(pg, private_redis, rt, report.county_code, token, display, var)
        yield built
    finally:
        for server in built.servers if built else []:
            server.stop()
        rt.close()
        private_redis.kill()
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(root, ignore_errors=True)
