"""Keyed hashes of a party's phone number and ID number: the same person is recognised across
cases without the number itself being compared, stored again or shown.

HMAC-SHA256 with a secret of the deployment (``Settings.party_key_secret``): without the secret a
stolen table of keys cannot be reversed by hashing every phone number (there are only 10^11).
Numbers are normalised first, so "+86 138-0013-8000" and "13800138000" give the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_NOT_DIGIT = re.compile(r"\D")
_ID_CHARS = re.compile(r"[^0-9X]")
KEY_LENGTH = 32
"""Hex characters kept of each HMAC (128 bits: no two people collide in practice)."""


def normal_phone(phone: str | None) -> str | None:
    """Digits only, without the country code; ``None`` when fewer than 7 digits remain."""
    digits = _NOT_DIGIT.sub("", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else None


def normal_id_number(number: str | None) -> str | None:
    """Upper case, digits and X only; ``None`` unless 15 or 18 characters remain (居民身份证)."""
    text = _ID_CHARS.sub("", (number or "").upper())
    return text if len(text) in (15, 18) else None


def party_keys(secret: bytes, *, phone: str | None, id_number: str | None) -> list[str]:
    """The keys of one party: one per usable number, each tagged with its kind before hashing."""
    if not secret:
        raise ValueError("a party key needs a non-empty secret")
    keys = []
    for kind, value in (("phone", normal_phone(phone)), ("id", normal_id_number(id_number))):
        if value is not None:
            keys.append(hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH])
    return keys
