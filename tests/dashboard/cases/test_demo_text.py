"""The demo's case texts: every dispute its own words, a dispute reported again told anew but
still recognisably the same, and nothing that looks like personal data."""

from __future__ import annotations

import random
import re

import pytest

from dashboard.cases import demo_text
from dashboard.domain.similarity import text_similarity
from dashboard.domain.vocabulary import Category, Source

SOURCES = list(Source)


def _texts(seed: int, category: Category, n: int, *, urban: bool = False) -> list[str]:
    rng = random.Random(seed)
    return [demo_text.tell(rng, demo_text.story(rng, category, people=rng.choice((1, 2, 3, 6)), urban=urban),
                           rng.choice(SOURCES)) for _ in range(n)]


@pytest.mark.parametrize("category", list(Category))
def test_five_hundred_cases_of_one_category_say_almost_five_hundred_things(category: Category) -> None:
    texts = _texts(1, category, 500, urban=category is Category.property_mgmt)
    assert len(set(texts)) >= 490, f"{category}: only {len(set(texts))} distinct texts of 500"
    assert all(len(t) >= 25 for t in texts), "each text tells who, what and a fact"


def test_the_same_seed_tells_the_same_texts() -> None:
    assert _texts(5, Category.land, 50) == _texts(5, Category.land, 50)
    assert _texts(5, Category.land, 50) != _texts(6, Category.land, 50)


GIVEN_NAME_CHARACTERS = "华伟芳敏静丽磊洋艳杰娟涛霞桂兰庆红"
"""Characters of given names (王某华 would be a real-looking name; 王某 is not)."""


def test_no_text_holds_a_name_a_phone_or_an_id_number() -> None:
    texts = [t for c in Category for urban in (False, True) for t in _texts(3, c, 300, urban=urban)]
    persons = 0
    for text in texts:
        assert not re.search(r"\d{7,}", text), f"a phone- or ID-like number: {text}"
        assert not any(word in text for word in ("电话", "手机号", "身份证", "门牌")), text
        for found in re.finditer("某", text):
            before, after = text[found.start() - 1 : found.start()], text[found.end() : found.end() + 1]
            if before and before in demo_text.SURNAMES:
                persons += 1
                assert after not in GIVEN_NAME_CHARACTERS or not after, f"a given name: {text}"
    assert persons >= len(texts), "people are named as 王某, at least one a text"


def test_a_dispute_told_again_by_another_channel_is_reworded_yet_alike() -> None:
    rng = random.Random(11)
    again, unrelated, reworded = [], [], 0
    for category in Category:
        for _ in range(100):
            story = demo_text.story(rng, category, people=2)
            first, second = rng.sample(SOURCES, 2)
            a, b = demo_text.tell(rng, story, first), demo_text.tell(rng, story, second)
            reworded += a != b
            again.append(text_similarity(a, b))
            other = demo_text.tell(rng, demo_text.story(rng, category, people=2), second)
            unrelated.append(text_similarity(a, other))
    assert reworded == len(again), "another channel never tells it word for word"
    assert min(again) >= 0.5 and sum(again) / len(again) >= 0.9
    assert sum(unrelated) / len(unrelated) <= 0.2
    assert sum(s >= 0.5 for s in unrelated) / len(unrelated) <= 0.1
