"""The wall's own web font: Noto Sans SC cut down to exactly the characters the wall can show.

Why: the vendored unicode-range slices of Noto Sans SC (``assets/fonts/noto-sans-sc.css``) make a
browser fetch about twenty 30–40 KB slices for one screen of Chinese, because the characters of
a few labels are spread over many slices. One small subset per weight, cut from those same slices,
holds the label catalogue, the demo county's place names, the name affixes the product adds
(``…第3网格``, ``…调解室``) and ASCII; ``assets/fonts.css`` declares it first in the font stack with
an exact ``unicode-range``, and the slices stay behind it as the fallback for any other text.
Each weight is cut in three files (``PARTS``) so that a wall fetches only the glyphs it draws.

    python -m dashboard fonts subset        # after a label, a name or a slice changes

The output is deterministic (same inputs, same bytes) and ``tests/dashboard/web/test_font_subset.py``
fails when a character the wall can show is missing from the subset.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dashboard.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "assets"
FONT_DIR = ASSETS / "fonts"
FALLBACK_CSS = FONT_DIR / "noto-sans-sc.css"
"""The vendored slices' ``@font-face`` rules (family "Noto Sans SC"): the fallback, and the map of
which slice file holds which character."""
SUBSET_CSS = ASSETS / "fonts.css"
DEMO_DATA = PROJECT_ROOT.parent / "shared" / "data" / "shulan"
CITY_DATA = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"
"""The demo county's city: its other counties' names make the ``city`` part."""
FAMILY = "Wall Sans SC"
FALLBACK_FAMILY = "Noto Sans SC"
WEIGHTS = (400, 700)
"""Both weights: a synthesized bold of 400 smears the title and KPI digits on a wall."""

ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
PUNCTUATION = "·—–−…、，。：；！？（）“”‘’÷×％"
"""Marks the screens' code, number formats and Leaflet (its zoom-out button is U+2212) put on screen."""
NAME_SOURCES = (PROJECT_ROOT / "geo" / "generate.py", PROJECT_ROOT / "dashboard" / "imports" / "onboarding.py")
"""Modules whose f-strings name grids and centres (``f"{village}第{n}网格"``, ``f"{town}矛调中心"``)."""
NOT_WALL_LAYOUTS = ("labels.py", "tablet.py", "duty.py")
"""The catalogue (read per label by ``catalogue_text``) and the other screens' layouts."""
SCREEN_SOURCES = (ASSETS / "live.js", ASSETS / "map_style.js", ASSETS / "tour.js", ASSETS / "wall.css",
                  PROJECT_ROOT / "dashboard" / "screens" / "wall_panels.py",
                  PROJECT_ROOT / "dashboard" / "domain" / "figure_text.py", PROJECT_ROOT / "callbacks" / "wall.py",
                  PROJECT_ROOT / "dashboard" / "domain" / "warning_text.py",
                  *sorted(p for p in (PROJECT_ROOT / "layouts").glob("*.py") if p.name not in NOT_WALL_LAYOUTS))
"""Screen code whose literals (not comments or docstrings) can put characters on the wall, such as
the badge's ``content: "● "`` in wall.css and the KPI change arrows (``↑``) of dashboard/domain/figure_text.py."""
OTHER_SCREENS = ("duty.", "tablet.", "range.", "action.", "status.", "col.", "fig.", "kind.", "matter.", "match.", "reports.")
"""Label prefixes only the tablet and the duty console show (kinds of township on the tablet; a
matter's candidates and their reasons on the console): their characters come from the fallback
slices there, and leaving them out keeps the wall's first load about 20 KB smaller."""
PARTS = ("core", "villages", "city", "notes")
"""Each weight is three files with disjoint ``unicode-range``s: ``core`` (labels, reasons, marks,
ASCII, county and township names), ``villages`` (characters only village and grid names use) and
``notes`` (only the panels' definitions use). A browser fetches a file only once it draws a
character of its range in its weight. The ticker shows village names in bold, and regular text only
in the map's hover tooltips; definitions show only as native ``title`` tips, which are not drawn with
a web font. So a wall fetches neither notes file, nor the regular villages file until someone points
at the map: about 27 KB less on a first load. ``city`` holds the characters only the other counties
of the demo county's city use in their names (a city wall, or a county's wall elsewhere in it): a
county wall never fetches it, and a city wall fetches it instead of a dozen fallback slices."""


class FontSubsetError(RuntimeError):
    """A character the wall needs is in no vendored slice, or the slices' CSS cannot be read."""


@dataclass(frozen=True)
class Slice:
    """One vendored woff2 slice: its weight, file name and the code points its rule covers."""

    weight: int
    file: str
    codepoints: frozenset[int]


@dataclass(frozen=True)
class Report:
    characters: int
    files: dict[str, int]
    seconds: float


def catalogue_text(*, notes: bool = True) -> str:
    """Every label, reason and (unless ``notes`` is false) definition the wall can show, in every
    language (``?lang=en``)."""
    from dashboard.domain.labels import DEFINITIONS, LABELS, REASONS

    tables = (LABELS, DEFINITIONS, REASONS) if notes else (LABELS, REASONS)
    return "".join(text for table in tables for key, entry in table.items()
                   if not key.startswith(OTHER_SCREENS) for text in entry.values())


def place_names(data_dir: Path = DEMO_DATA, *, villages: bool = True) -> str:
    """County, township and (unless ``villages`` is false) village names of the county the wall
    shows (the demo county by default); village names come from the ``*_villages.csv`` file."""
    names: list[str] = []
    for path in sorted(data_dir.glob("*.csv")):
        if not villages and path.stem.endswith("_villages"):
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            names += [row.get("name") or "" for row in csv.DictReader(handle)]
    for path in sorted(data_dir.glob("*county*.geojson")):
        names += [str(f.get("properties", {}).get("name", "")) for f in json.loads(path.read_text("utf-8"))["features"]]
    if not names:
        raise FontSubsetError(f"no place names under {data_dir}")
    return "".join(names)


def name_affixes(paths: Iterable[Path] = NAME_SOURCES) -> str:
    """The fixed parts of the f-strings that name grids and centres, read from their source."""
    parts: list[str] = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.JoinedStr):
                parts += [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return "".join(parts)


def _python_literals(source: str) -> Iterable[str]:
    """String constants that can reach a screen: docstrings and bare string statements never do."""
    tree = ast.parse(source)
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare:
            yield node.value


def screen_literals(paths: Iterable[Path] = SCREEN_SOURCES) -> str:
    """Non-ASCII characters written into the screens' code and CSS (``"—"``, ``"●"``), comments excluded."""
    texts: list[str] = []
    for path in paths:
        source = path.read_text("utf-8")
        if path.suffix == ".py":
            texts += list(_python_literals(source))
        elif path.suffix == ".css":
            texts.append(re.sub(r"/\*.*?\*/", "", source, flags=re.S))
        else:
            texts.append(re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S))
    return "".join(c for text in texts for c in text if ord(c) > 0x7E)


def _wall_text(data_dir: Path, *, villages: bool = True, notes: bool = True) -> str:
    return (catalogue_text(notes=notes) + place_names(data_dir, villages=villages) + name_affixes()
            + screen_literals() + ASCII + PUNCTUATION)


def city_names(city_dir: Path | None = CITY_DATA) -> str:
    """The names of the demo county's city (its counties, townships and villages); empty without one."""
    return place_names(city_dir) if city_dir is not None and any(city_dir.glob("*.csv")) else ""


def wall_characters(data_dir: Path = DEMO_DATA, city_dir: Path | None = CITY_DATA) -> str:
    """Every character the wall can show, sorted, without control characters."""
    return "".join(sorted({c for c in _wall_text(data_dir) + city_names(city_dir) if c.isprintable()}))


def wall_parts(data_dir: Path = DEMO_DATA, city_dir: Path | None = CITY_DATA) -> dict[str, str]:
    """``wall_characters`` split into ``PARTS``: what only village names use, what only the city's
    other counties' names use, what only definitions use, and all the rest."""
    core = set(_wall_text(data_dir, villages=False, notes=False))
    villages = set(_wall_text(data_dir, notes=False)) - core
    city = {c for c in city_names(city_dir) if c.isprintable()} - core - villages
    everything = wall_characters(data_dir, city_dir)
    return {"core": "".join(c for c in everything if c in core),
            "villages": "".join(c for c in everything if c in villages),
            "city": "".join(c for c in everything if c in city),
            "notes": "".join(c for c in everything if c not in core and c not in villages and c not in city)}


def _codepoints(unicode_range: str) -> frozenset[int]:
    points: set[int] = set()
    for part in unicode_range.split(","):
        first, _, last = part.strip().upper().removeprefix("U+").partition("-")
        points.update(range(int(first, 16), int(last or first, 16) + 1))
    return frozenset(points)


def fallback_slices(css: str | None = None) -> list[Slice]:
    """The slices declared in the fallback CSS, plus the bold files beside each regular one."""
    css = FALLBACK_CSS.read_text("utf-8") if css is None else css
    found: list[Slice] = []
    for rule in re.findall(r"@font-face\s*\{([^}]*)\}", css):
        src = re.search(r'url\("?([^")?]+)', rule)
        weight = re.search(r"font-weight:\s*(\d+)", rule)
        ranges = re.search(r"unicode-range:\s*([^;}]+)", rule)
        if not (src and weight and ranges):
            raise FontSubsetError(f"cannot read this rule in {FALLBACK_CSS.name}: {rule.strip()[:80]}")
        points = _codepoints(ranges.group(1))
        found.append(Slice(int(weight.group(1)), src.group(1), points))
        for other in WEIGHTS:
            twin = src.group(1).replace(f"-{weight.group(1)}-", f"-{other}-")
            if other != int(weight.group(1)) and (FONT_DIR / twin).exists():
                found.append(Slice(other, twin, points))
    return found


def build_weight(characters: str, weight: int, slices: list[Slice]) -> bytes:
    """Cut each slice down to the characters it holds for us, merge the pieces, save as woff2."""
    from fontTools import subset
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # the merger logs every table at INFO
    wanted = {ord(c) for c in characters}
    pieces: list[io.BytesIO] = []
    stamps: list[int] = []
    for piece in (s for s in slices if s.weight == weight):
        mine = wanted & piece.codepoints
        if not mine:
            continue
        wanted -= mine
        font = TTFont(FONT_DIR / piece.file, recalcTimestamp=False)
        stamps.append(font["head"].modified)
        options = subset.Options()
        options.layout_features = ["kern", "ccmp", "locl", "mark", "mkmk"]
        options.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "STAT"]
        options.hinting = False
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
        options.notdef_outline = not pieces  # one visible .notdef is enough
        options.recalc_timestamp = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(mine))
        subsetter.subset(font)
        font.flavor = None
        buffer = io.BytesIO()
        font.save(buffer)
        buffer.seek(0)
        pieces.append(buffer)
    if wanted:
        raise FontSubsetError(f"not in any weight-{weight} slice: {''.join(sorted(map(chr, wanted)))!r}")
    merged = Merger().merge(pieces)
    merged.recalcTimestamp = False
    merged["head"].created = merged["head"].modified = max(stamps)  # the merger stamps "now": keep builds identical
    merged.flavor = "woff2"
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def _ranges(characters: str) -> str:
    """``U+20-7E,U+4E2D`` for a sorted set of characters, as CSS ``unicode-range`` wants it."""
    points = sorted({ord(c) for c in characters})
    spans: list[list[int]] = []
    for point in points:
        if spans and point == spans[-1][1] + 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)


def subset_file(weight: int, part: str = "core") -> Path:
    suffix = "" if part == "core" else f"-{part}"
    return FONT_DIR / f"wall-sans-sc-{weight}{suffix}.woff2"


def subset_css(parts: dict[str, str], fonts: dict[tuple[int, str], bytes]) -> str:
    """fonts.css: the subset faces (versioned by content), then the stack that puts them first."""
    rules = [
        "/* Generated by `python -m dashboard fonts subset` (dashboard/web/font_subset.py): do not edit.\n"
        f' * "{FAMILY}" is Noto Sans SC (SIL OFL 1.1, fonts/LICENSE-noto-sans-sc.txt) cut to the\n'
        f" * {sum(map(len, parts.values()))} characters the wall can show; any other character falls back to\n"
        f' * "{FALLBACK_FAMILY}", the vendored unicode-range slices in fonts/noto-sans-sc.css. */'
    ]
    for (weight, part), data in sorted(fonts.items(), key=lambda item: (item[0][0], PARTS.index(item[0][1]))):
        version = hashlib.sha256(data).hexdigest()[:10]
        rules.append(
            f'@font-face {{\n  font-family: "{FAMILY}";\n  font-style: normal;\n  font-weight: {weight};\n'
            f"  font-display: swap;\n"
            f'  src: url("fonts/{subset_file(weight, part).name}?v={version}") format("woff2");\n'
            f"  unicode-range: {_ranges(parts[part])};\n}}"
        )
    rules.append(f':root {{\n  --font-cjk: "{FAMILY}", "{FALLBACK_FAMILY}", system-ui, sans-serif;\n}}')
    rules.append("body {\n  font-family: var(--font-cjk);\n}")
    return "\n\n".join(rules) + "\n"


def regenerate(data_dir: Path = DEMO_DATA) -> Report:
    """Rebuild the subset files and fonts.css from the catalogue, the names and the slices."""
    started = time.perf_counter()
    parts = wall_parts(data_dir)
    fonts = build_fonts(parts)
    for (weight, part), data in fonts.items():
        subset_file(weight, part).write_bytes(data)
    SUBSET_CSS.write_text(subset_css(parts, fonts), "utf-8")
    return Report(sum(map(len, parts.values())), {subset_file(w, p).name: len(d) for (w, p), d in fonts.items()},
                  time.perf_counter() - started)


def build_fonts(parts: dict[str, str]) -> dict[tuple[int, str], bytes]:
    """One woff2 per weight and non-empty part (another county's names may add nothing to the core)."""
    slices = fallback_slices()
    return {(weight, part): build_weight(characters, weight, slices)
            for weight in WEIGHTS for part, characters in parts.items() if characters}


def missing_characters(font: Path, characters: str) -> str:
    """Characters of ``characters`` that ``font`` has no glyph for (its cmap lacks them)."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(font, lazy=True).getBestCmap()
    return "".join(c for c in characters if ord(c) not in cmap)
