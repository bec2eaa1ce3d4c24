"""The wall's own font subset holds every character the wall can show, and is what the command builds.

When a label, a definition or a reason is added to ``layouts/labels.py`` these tests fail until
``python -m dashboard fonts subset`` is run and its output committed.
"""

from __future__ import annotations

import re

import pytest

from dashboard.domain.warning_text import reason_text
from dashboard.web import font_subset as fs

REGENERATE = ("run `python -m dashboard fonts subset` and commit assets/fonts.css and "
              "assets/fonts/wall-sans-sc-*.woff2")
PARTS = fs.wall_parts()


@pytest.mark.parametrize("weight", fs.WEIGHTS)
def test_every_label_character_has_a_glyph_in_the_core_file(weight: int) -> None:
    missing = fs.missing_characters(fs.subset_file(weight), fs.catalogue_text(notes=False))
    assert missing == "", f"labels use {missing!r}, which the weight-{weight} subset lacks: {REGENERATE}"


@pytest.mark.parametrize("weight", fs.WEIGHTS)
@pytest.mark.parametrize("part", fs.PARTS)
def test_every_character_the_wall_can_show_has_a_glyph_in_the_subset(weight: int, part: str) -> None:
    missing = fs.missing_characters(fs.subset_file(weight, part), PARTS[part])
    assert missing == "", f"the wall can show {missing!r}, which the weight-{weight} {part} file lacks: {REGENERATE}"


def test_the_parts_split_the_wall_characters_and_keep_labels_in_the_core() -> None:
    assert "".join(sorted("".join(PARTS.values()))) == fs.wall_characters()
    assert sum(map(len, PARTS.values())) == len(fs.wall_characters())
    assert set(fs.catalogue_text(notes=False)) <= set(PARTS["core"]) and PARTS["villages"] and PARTS["notes"]


def test_a_warning_reason_is_drawn_from_the_core_file() -> None:
    """The wall's warnings panel prints reasons in regular weight: a character missing from the core
    pulled two fallback slices (58 KB) onto every wall with a warning."""
    reason = reason_text(category="neighbour", place="舒兰市", window=3, observed=9, expected=2.1, p=0.0001, lang="zh")
    assert set(reason) <= set(PARTS["core"]), set(reason) - set(PARTS["core"])


def test_the_city_part_holds_the_other_counties_names_and_nothing_of_the_county_wall() -> None:
    """A city wall draws its counties', townships' and villages' names from the subset, and a county
    wall never needs the city file."""
    names = {c for c in fs.city_names() if c.isprintable()}
    assert names and names <= set(fs.wall_characters())
    assert set(PARTS["city"]) == names - set(PARTS["core"]) - set(PARTS["villages"])
    assert not set(PARTS["city"]) & set(fs.place_names())


def test_the_subset_is_declared_for_exactly_its_characters_and_first_in_the_stack() -> None:
    css = fs.SUBSET_CSS.read_text("utf-8")
    faces = re.findall(r'url\("fonts/([^"?]+)\?v=[0-9a-f]+"\) format\("woff2"\);\s*unicode-range:\s*([^;]+);', css)
    expected = [(fs.subset_file(w, p).name, {ord(c) for c in PARTS[p]}) for w in fs.WEIGHTS for p in fs.PARTS]
    assert [(name, fs._codepoints(r)) for name, r in faces] == expected, REGENERATE
    stack = re.search(r"--font-cjk:\s*([^;]+);", css)
    assert stack and stack.group(1).startswith(f'"{fs.FAMILY}", "{fs.FALLBACK_FAMILY}"')


def test_every_fallback_slice_exists_and_covers_the_common_chinese_characters() -> None:
    slices = fs.fallback_slices()
    assert {s.weight for s in slices} == set(fs.WEIGHTS)
    assert all((fs.FONT_DIR / s.file).is_file() for s in slices)
    regular = set().union(*(s.codepoints for s in slices if s.weight == 400))
    assert all(ord(c) in regular for c in "案件调解纠纷受理办结超期预警网格社区乡镇街道")
    assert (fs.FONT_DIR / "LICENSE-noto-sans-sc.txt").is_file()


def test_the_committed_files_are_exactly_what_the_command_builds() -> None:
    """Deterministic output: the lead's re-run at the end of the day changes nothing unless a label did."""
    fonts = fs.build_fonts(PARTS)
    for (weight, part), data in fonts.items():
        assert data == fs.subset_file(weight, part).read_bytes(), REGENERATE
    assert fs.subset_css(PARTS, fonts) == fs.SUBSET_CSS.read_text("utf-8"), REGENERATE


def test_unicode_ranges_round_trip() -> None:
    text = " !0123456789第网格、"
    assert fs._codepoints(fs._ranges(text)) == {ord(c) for c in text}
    assert fs._ranges("abc") == "U+61-63"
