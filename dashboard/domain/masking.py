"""Masking of personal data: pure functions, so every view can mask the same way.

A wall is seen by visitors and a tablet is carried around; what they show must not identify
anyone. These forms keep just enough to tell two cases apart on a call (surname, phone prefix
and suffix, region of birth, township and village).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "*"
_VILLAGE = re.compile(r"^.*?(村|社区|居委会|屯)")
_TOWNSHIP = re.compile(r"^.*?(镇|乡|街道)")
ADDRESS_PREFIX = 6
"""Characters kept of an address that names no township or village."""
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
"""A resident ID number: 18 characters, the last a digit or X, not inside a longer run."""
_MOBILE = re.compile(r"(?:(?<!\d)|(?<=\+86))1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
"""A mainland mobile number (11 digits from 13x to 19x), also written 138-1234-5678 or after +86
(which stays); not a run of digits inside a longer number."""
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[ -])\d{7,8}(?!\d)")
"""A landline with its area code set apart (0431-83851234, (0431)83851234): without the separator
ten to twelve digits starting with 0 are too easily a case reference."""
_MIN_KNOWN = {"party_name": 2, "party_phone": 5, "party_id_number": 8, "address": 4}
"""Shortest stored value looked for verbatim in free text; a one-character name would mask every
occurrence of that character."""


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 张小明 → 张*明, 欧阳小明 → 欧**明: the first and (from 3 on) last character stay."""
    if name is None or not name.strip():
        return None
    text = name.strip()
    if len(text) == 1:
        return MASK
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]


def mask_phone(phone: str | None) -> str | None:
    """13812341234 → 138****1234; short numbers keep only their last two digits."""
    if phone is None or not phone.strip():
        return None
    digits = re.sub(r"[\s\-()]", "", phone.strip())
    if len(digits) >= 8:
        return digits[:3] + MASK * (len(digits) - 7) + digits[-4:]
    return MASK * max(len(digits) - 2, 1) + digits[-2:] if len(digits) > 2 else MASK * len(digits)


def mask_id_number(id_number: str | None) -> str | None:
    """220283199001011234 → 2201**********1234: region and check digits stay, the birth date goes."""
    if id_number is None or not id_number.strip():
        return None
    text = id_number.strip().upper()
    if len(text) <= 8:
        return MASK * len(text)
    return text[:4] + MASK * (len(text) - 8) + text[-4:]


def mask_address(address: str | None) -> str | None:
    """Township and village only (平安镇平安村***), else the first few characters and ***."""
    if address is None or not address.strip():
        return None
    text = address.strip()
    for pattern in (_VILLAGE, _TOWNSHIP):
        found = pattern.match(text)
        if found and found.end() < len(text):
            return found.group(0) + MASK * 3
    keep = min(ADDRESS_PREFIX, len(text) // 2)
    return text[:keep] + MASK * 3


def mask_text(text: str | None, known: Iterable[PartyDetails] = ()) -> str:
    """Free text (a description, an event note) with personal data masked as the fields are.

    First the stored details of the case's parties wherever they appear verbatim, then anything
    shaped like a resident ID number, a mobile number or a landline with its area code. The
    patterns are kept narrow on purpose: a figure or a case reference should read as written.
    """
    if not text:
        return ""
    masked = text
    masks = {"party_name": mask_name, "party_phone": mask_phone, "party_id_number": mask_id_number,
             "address": mask_address}
    replacements: dict[str, str] = {}
    for party in known:
        for field, value in party.as_dict().items():
            value = (value or "").strip()
            if len(value) >= _MIN_KNOWN[field]:
                replacements[value] = masks[field](value) or MASK
    for value in sorted(replacements, key=len, reverse=True):
        masked = masked.replace(value, replacements[value])
    masked = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)) or MASK, masked)
    masked = _MOBILE.sub(lambda m: mask_phone(m.group(0)) or MASK, masked)
    return _LANDLINE.sub(lambda m: mask_phone(m.group(0)) or MASK, masked)


@dataclass(frozen=True)
class PartyDetails:
    """The personal data of one case, masked or not; ``None`` where nothing is known."""

    party_name: str | None = None
    party_phone: str | None = None
    party_id_number: str | None = None
    address: str | None = None

    def masked(self) -> PartyDetails:
        return PartyDetails(party_name=mask_name(self.party_name), party_phone=mask_phone(self.party_phone),
                            party_id_number=mask_id_number(self.party_id_number), address=mask_address(self.address))

    def as_dict(self) -> dict[str, str | None]:
        return {"party_name": self.party_name, "party_phone": self.party_phone,
                "party_id_number": self.party_id_number, "address": self.address}

    def is_empty(self) -> bool:
        return not any(self.as_dict().values())
