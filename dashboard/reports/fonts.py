"""One TrueType font per weight for the report charts and the PDF, built from the vendored slices.

The product ships Noto Sans SC as unicode-range ``.woff2`` slices (``assets/fonts``, SIL OFL);
together they hold every character of the font, so any township or village name renders. A PDF
engine and matplotlib want one font file, so the slices of a weight are merged once with fontTools
(about 7 s) into ``<var>/fonts/report-sans-sc-<weight>.ttf`` and reused. The output is
deterministic (the same slices give the same bytes); a new slice set gives a new file name, since
the name carries a hash of the slices. Nothing is fetched and no system font is needed.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

from dashboard.settings import PROJECT_ROOT

SLICE_DIR = PROJECT_ROOT / "assets" / "fonts"
FAMILY = "Report Sans SC"
WEIGHTS = (400, 700)
_DROP = ("GSUB", "GPOS", "BASE", "STAT", "vhea", "vmtx")
"""Layout tables differ per slice and are not needed for horizontal Chinese and Latin text."""
_lock = threading.Lock()


def _slices(weight: int) -> list[Path]:
    found = sorted(SLICE_DIR.glob(f"noto-sans-sc-*-{weight}-normal.woff2"))
    if not found:
        raise FileNotFoundError(f"no Noto Sans SC slices of weight {weight} under {SLICE_DIR}")
    return found


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _merge(paths: list[Path], weight: int) -> bytes:
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    buffers = []
    for path in paths:
        font = TTFont(path)
        font.flavor = None
        for tag in _DROP:
            if tag in font:
                del font[tag]
        buffer = io.BytesIO()
        font.save(buffer)
        buffer.seek(0)
        buffers.append(buffer)
    merged = Merger().merge(buffers)
    style = "Bold" if weight >= 700 else "Regular"
    names = merged["name"]
    for record in list(names.names):
        if record.nameID in (1, 2, 3, 4, 6, 16, 17):
            names.removeNames(nameID=record.nameID)
    postscript = f"ReportSansSC-{style}"
    for name_id, value in ((1, FAMILY), (2, style), (3, f"{postscript};merged"), (4, f"{FAMILY} {style}"),
                           (6, postscript), (16, FAMILY), (17, style)):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    merged["OS/2"].usWeightClass = weight
    merged["OS/2"].fsSelection = (merged["OS/2"].fsSelection & ~0b1100001) | (0b100000 if weight >= 700 else 0b1000000)
    merged["head"].macStyle = 1 if weight >= 700 else 0
    merged["head"].created = merged["head"].modified = 0  # deterministic bytes
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


SHARED_CACHE = PROJECT_ROOT / "var" / "fonts"
"""Also looked in (never written unless it is ``cache_dir``): the default ``var/`` of a checkout, so a
deployment or a test run with another ``var`` reuses fonts that ``make run`` already built."""


def font_files(cache_dir: Path) -> list[Path]:
    """The merged fonts (one per weight), built into ``cache_dir`` on first use."""
    files = []
    with _lock:
        for weight in WEIGHTS:
            paths = _slices(weight)
            name = f"report-sans-sc-{weight}-{_fingerprint(paths)}.ttf"
            if (SHARED_CACHE / name).exists():
                files.append(SHARED_CACHE / name)
                continue
            target = cache_dir / name
            if not target.exists():
                cache_dir.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(f".{os.getpid()}.tmp")
                partial.write_bytes(_merge(paths, weight))
                partial.replace(target)  # atomic: a racing process reads a whole file or none
            files.append(target)
    return files


def covers(font: Path, text: str) -> set[str]:
    """The characters of ``text`` the font has no glyph for (empty: all render)."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(font, lazy=True)["cmap"].getBestCmap()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
