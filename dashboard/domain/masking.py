"""Masking of personal data: pure functions, so every view can mask the same way.

A wall is seen by visitors and a tablet is carried around; what they show must not identify
anyone. These forms keep just enough to tell two cases apart on a call (surname, phone prefix
and suffix, region of birth, township and village).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MASK = "*"
_VILLAGE = re.compile(r"^.*?(村|社区|居委会|屯)")
_TOWNSHIP = re.compile(r"^.*?(镇|乡|街道)")
ADDRESS_PREFIX = 6
"""Characters kept of an address that names no township or village."""
_FOLDED = {**{chr(0xFF10 + i): str(i) for i in range(10)}, "\uff0b": "+", "\uff0d": "-", "\uff0e": ".",
           "\uff08": "(", "\uff09": ")", "\uff38": "X", "\uff58": "x", "\u3000": " ", "\u00a0": " ",
           "\u2212": "-"}
"""Full-width digits, plus, minus, dot, brackets and X (１３８…, ＋８６) and odd spaces, read as their ASCII
forms; every other decimal digit (``unicodedata.decimal``) too. One character for one, so a match
found in the folded text has the same span in the original."""
_SEP = r"[\s.\-·‐‑–—_]{0,3}"
"""What may stand between two digits of one number: spaces, dots, dashes (138 1234 5678, 138.1234.5678,
138-1234-5678), at most three in a row."""
_ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])[1-9](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx](?![0-9A-Za-z])")
"""A resident ID number: 18 characters, the last a digit or X, not inside a longer run."""
_OLD_ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])[1-9](?:{_SEP}[0-9]){{14}}(?![0-9A-Za-z])")
"""A first-generation ID number: 15 digits whose 7th to 12th are a birth date (YYMMDD)."""
_MOBILE = re.compile(rf"(?<![0-9])(?P<prefix>(?:\+|00)?86{_SEP})?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])")
"""A mainland mobile number (11 digits from 13x to 19x), also written 138-1234-5678, 138.1234.5678,
with full-width digits, or after +86/0086/86 (which stays); not a run of digits inside a longer number."""
_LANDLINE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)86{_SEP}0?[0-9]{{2,3}}[\s.\-·]{{1,3}}|\({_SEP}0[0-9]{{2,3}}{_SEP}\)\s?|"
    rf"0[0-9]{{2,3}}[\s.\-·]{{1,3}})[0-9](?:{_SEP}[0-9]){{6,7}}(?![0-9])")
"""A landline with its area code set apart (0431-83851234, (0431)83851234, 0431.8385 1234,
+86 431 83851234): without the separator ten to twelve digits starting with 0 are too easily a
case reference."""
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


def fold(text: str) -> str:
    """``text`` with full-width and other Unicode digits, signs and spaces as ASCII, one character for one."""
    return "".join(_FOLDED.get(ch) or (str(unicodedata.decimal(ch)) if ch.isdecimal() else ch) for ch in text)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", fold(text)).upper()


def _plausible_old_id(digits: str) -> bool:
    """Month and day of a 15-digit ID's birth date (YYMMDD at digits 7–12) are a month and a day."""
    return 1 <= int(digits[8:10]) <= 12 and 1 <= int(digits[10:12]) <= 31


def _replace(text: str, pattern: re.Pattern[str], replacement: Callable[[re.Match[str], str], str | None]) -> str:
    """Each match of ``pattern`` in the folded ``text`` replaced in ``text`` itself (``None``: kept)."""
    folded, out, last = fold(text), [], 0
    for found in pattern.finditer(folded):
        start, end = found.span()
        masked = replacement(found, text[start:end])
        if masked is not None:
            out.extend((text[last:start], masked))
            last = end
    out.append(text[last:])
    return "".join(out)


def _mobile(found: re.Match[str], original: str) -> str:
    prefix = found.group("prefix") or ""
    return original[:len(prefix)] + (mask_phone(_digits(original[len(prefix):])) or MASK)


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _given_name(name: str) -> list[str]:
    """The given name of a Chinese name of three or four characters (小明 of 李小明 or 欧阳小明),
    which people write alone; none for a shorter or a non-Chinese name."""
    return [name[-2:]] if len(name) >= 3 and _HAN.fullmatch(name) else []


def _known_patterns(party: PartyDetails) -> list[tuple[re.Pattern[str], str]]:
    """Where a party's stored details may stand in free text, and what replaces them.

    Numbers are found digit by digit whatever separates or widens them; a name also without
    spaces inside and by its given name alone (小明 of 李小明, 小明 of 欧阳小明); an address as stored.
    """
    found: list[tuple[re.Pattern[str], str]] = []
    name = (party.party_name or "").strip()
    if len(name) >= _MIN_KNOWN["party_name"]:
        for value in {name, *_given_name(name)}:
            pattern = r"\s{0,2}".join(re.escape(ch) for ch in value)
            found.append((re.compile(pattern), mask_name(value) or MASK))
    for field, mask in (("party_phone", mask_phone), ("party_id_number", mask_id_number)):
        digits = _digits(getattr(party, field) or "")
        if len(digits) >= _MIN_KNOWN[field]:
            pattern = _SEP.join(re.escape(ch) if ch.isdigit() else "[Xx]" for ch in digits)
            found.append((re.compile(pattern), mask(digits) or MASK))
    address = (party.address or "").strip()
    if len(address) >= _MIN_KNOWN["address"]:
        found.append((re.compile(re.escape(address)), mask_address(address) or MASK))
    return found


@dataclass(frozen=True)
class KnownNames:
    """Many people's names (and given names), to mask in many texts at once: e.g. every party the
    county has recorded, so that one case's text does not name the party of another.

    A scan looks up each position's next few characters in a set, longest first, so the cost is
    the text's length times the number of distinct name lengths, whatever the number of names.
    """

    names: frozenset[str] = frozenset()
    lengths: tuple[int, ...] = ()
    """The distinct lengths of ``names``, longest first."""

    @classmethod
    def of(cls, names: Iterable[str | None]) -> KnownNames:
        wanted: set[str] = set()
        for name in names:
            text = "".join((name or "").split())
            if len(text) >= _MIN_KNOWN["party_name"]:
                wanted.add(text)
                wanted.update(_given_name(text))
        return cls(frozenset(wanted), tuple(sorted({len(name) for name in wanted}, reverse=True)))

    def mask(self, text: str) -> str:
        if not self.names:
            return text
        out, i = [], 0
        while i < len(text):
            for length in self.lengths:
                if text[i:i + length] in self.names:
                    out.append(mask_name(text[i:i + length]) or MASK)
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def mask_text(text: str | None, known: Iterable[PartyDetails] = (), names: KnownNames | None = None) -> str:
    """Free text (a description, an event note) with personal data masked as the fields are.

    First the stored details of the parties in ``known`` wherever they appear (a number also
    with other separators or full-width digits, a name also by its given name), then the
    names in ``names`` (:class:`KnownNames`: other people known to us), then anything
    shaped like a resident ID number (18 or 15 digits), a mobile number (with or without
    +86/0086) or a landline with its area code, in ASCII or full-width digits, with spaces,
    dots or dashes inside. The shapes are kept narrow on purpose: a figure or a case reference
    should read as written. No pattern finds every name; that is why public reads show no free
    text at all (``dashboard.api.open311_format``).
    """
    if not text:
        return ""
    masked = text
    patterns = [pattern for party in known for pattern in _known_patterns(party)]
    for pattern, replacement in sorted(patterns, key=lambda p: len(p[0].pattern), reverse=True):
        masked = _replace(masked, pattern, lambda _m, _o, r=replacement: r)
    if names is not None:
        masked = names.mask(masked)
    return _mask_numbers(masked)


_SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], str], str | None]], ...] = (
    (_ID_NUMBER, lambda _m, original: mask_id_number(_digits(original)) or MASK),
    (_OLD_ID_NUMBER, lambda _m, original: mask_id_number(_digits(original)) if _plausible_old_id(_digits(original))
     else None),
    (_MOBILE, _mobile),
    (_LANDLINE, lambda _m, original: mask_phone(_digits(original)) or MASK),
)
"""The shapes of numbers that identify a person, and the mask of one found alone."""


def _mask_numbers(text: str) -> str:
    """Every ID number, mobile and landline in ``text`` masked.

    Separators may join two numbers into one candidate (two ID numbers a space apart read as an
    18-digit one and a rest), so candidates are looked for at every position, overlapping. A
    candidate that covers all the others it overlaps is masked as its field would be; where
    candidates only overlap, every digit of their joint span is masked, so no kept prefix or
    suffix of one number can complete another.
    """
    folded = fold(text)
    spans: list[tuple[int, int, str]] = []
    for pos, ch in enumerate(folded):
        if not (ch.isdigit() or ch in "+("):
            continue
        for pattern, replacement in _SHAPES:
            found = pattern.match(folded, pos)
            if found is not None:
                masked = replacement(found, text[found.start():found.end()])
                if masked is not None:
                    spans.append((found.start(), found.end(), masked))
    if not spans:
        return text
    spans.sort(key=lambda span: (span[0], -span[1]))
    out, last, i = [], 0, 0
    while i < len(spans):
        start, end, masked = spans[i]
        group = [spans[i]]
        i += 1
        while i < len(spans) and spans[i][0] < end:
            group.append(spans[i])
            end = max(end, spans[i][1])
            i += 1
        whole = next((g for g in group if g[0] == start and g[1] == end), None)
        out.append(text[last:start])
        if whole is not None:
            out.append(whole[2])
        else:
            out.append("".join(MASK if f.isdigit() or f in "Xx" else o for f, o in zip(folded[start:end], text[start:end])))
        last = end
    out.append(text[last:])
    return "".join(out)


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
