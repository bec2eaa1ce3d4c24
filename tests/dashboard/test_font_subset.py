"""The wall's own font subset holds every character the wall can show, and is what the command builds.

When a label, a definition or a reason is added to ``layouts/labels.py`` these tests fail until
``python -m dashboard fonts subset`` is run and its output committed.
"""

from __future__ import annotations

import re

import pytest

from dashboard import font_subset as fs

REGENERATE = ("run `python -m dashboard fonts subset` and commit assets/fonts.css and "
              "assets/fonts/wall-sans-sc-*.woff2")


@pytest.mark.parametrize("weight", fs.WEIGHTS)
def test_every_catalogue_character_has_a_glyph_in_the_subset(weight: int) -> None:
    missing = fs.missing_characters(fs.subset_file(weight), fs.catalogue_text())
    assert missing == "", f"labels use {missing!r}, which the weight-{weight} subset lacks: {REGENERATE}"


@pytest.mark.parametrize("weight", fs.WEIGHTS)
def test_every_character_the_wall_can_show_has_a_glyph_in_the_subset(weight: int) -> None:
    missing = fs.missing_characters(fs.subset_file(weight), fs.wall_characters())
    assert missing == "", f"the wall can show {missing!r}, which the weight-{weight} subset lacks: {REGENERATE}"


def test_the_subset_is_declared_for_exactly_its_characters_and_first_in_the_stack() -> None:
    css = fs.SUBSET_CSS.read_text("utf-8")
    ranges = re.findall(r"unicode-range:\s*([^;]+);", css)
    assert len(ranges) == len(fs.WEIGHTS)
    wanted = {ord(c) for c in fs.wall_characters()}
    assert all(fs._codepoints(r) == wanted for r in ranges), REGENERATE
    stack = re.search(r"--font-cjk:\s*([^;]+);", css)
    assert stack and stack.group(1).startswith(f'"{fs.FAMILY}", "{fs.FALLBACK_FAMILY}"')
    for weight in fs.WEIGHTS:
        assert f"fonts/{fs.subset_file(weight).name}?v=" in css


def test_every_fallback_slice_exists_and_covers_the_common_chinese_characters() -> None:
    slices = fs.fallback_slices()
    assert {s.weight for s in slices} == set(fs.WEIGHTS)
    assert all((fs.FONT_DIR / s.file).is_file() for s in slices)
    regular = set().union(*(s.codepoints for s in slices if s.weight == 400))
    assert all(ord(c) in regular for c in "案件调解纠纷受理办结超期预警网格社区乡镇街道")
    assert (fs.FONT_DIR / "LICENSE-noto-sans-sc.txt").is_file()


def test_the_committed_files_are_exactly_what_the_command_builds() -> None:
    """Deterministic output: the lead's re-run at the end of the day changes nothing unless a label did."""
    characters = fs.wall_characters()
    slices = fs.fallback_slices()
    fonts = {weight: fs.build_weight(characters, weight, slices) for weight in fs.WEIGHTS}
    for weight, data in fonts.items():
        assert data == fs.subset_file(weight).read_bytes(), REGENERATE
    assert fs.subset_css(characters, fonts) == fs.SUBSET_CSS.read_text("utf-8"), REGENERATE


def test_unicode_ranges_round_trip() -> None:
    text = " !0123456789第网格、"
    assert fs._codepoints(fs._ranges(text)) == {ord(c) for c in text}
    assert fs._ranges("abc") == "U+61-63"
