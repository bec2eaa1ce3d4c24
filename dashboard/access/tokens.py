"""API tokens: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough; slow password hashes exist for
guessable secrets, which these are not.
"""

from __future__ import annotations

import hashlib
import re
import secrets


def new_token() -> str:
    return "mct_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_display_token() -> str:
    """A wall screen's display token (``/screen?token=…``); stored, like API tokens, only as a hash."""
    return "mcs_" + secrets.token_urlsafe(32)


TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{20,100}")
"""What a random token of ours looks like (URL-safe base64, after its ``mct_``/``mcs_`` prefix);
anything else is refused before it reaches the database."""
