"""Server-side sessions in Redis: the cookie holds a random id, Redis holds the data, with expiry.

Keys are the SHA-256 of the id, so a Redis dump does not hand out working cookies.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import redis

from data_access import redis_keys


def _key(session_id: str) -> str:
    return redis_keys.auth_session(hashlib.sha256(session_id.encode("utf-8")).hexdigest())


def create(client: redis.Redis, data: dict[str, str | None], *, ttl_seconds: int) -> str:
    """Store ``data`` under a new random id; it expires after ``ttl_seconds`` without use."""
    session_id = secrets.token_urlsafe(32)
    client.set(_key(session_id), json.dumps({**data, "ttl": ttl_seconds}), ex=ttl_seconds)
    return session_id


def load(client: redis.Redis, session_id: str) -> dict[str, object] | None:
    """The session's data; each use renews its life by its own ``ttl`` (so only idle sessions expire)."""
    if not session_id or len(session_id) > 128:
        return None
    key = _key(session_id)
    raw = client.get(key)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    client.expire(key, int(data.get("ttl") or 3600))
    return data


def delete(client: redis.Redis, session_id: str) -> None:
    client.delete(_key(session_id))

