"""The cache regions: at most two between the aggregates and a screen, each store keeps only the
current generation of each scope, and hits and misses are counted."""

from __future__ import annotations

from dashboard.screens import caches
from dashboard.screens.caches import GenerationStore, Region

REGION = Region("test-region", key="(scope, generation, part)", lifetime="a test", between_aggregates_and_screens=False)


def test_at_most_two_regions_sit_between_the_aggregates_and_a_screen() -> None:
    between = [r.name for r in caches.REGIONS if r.between_aggregates_and_screens]
    assert between == ["wall-snapshot", "screen-state"]
    assert len({r.name for r in caches.REGIONS}) == len(caches.REGIONS)


def test_a_new_generation_retires_the_old_one_of_its_scope_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(caches._COUNTERS, REGION.name, caches.Counters())
    store: GenerationStore[tuple[str, int, str], str] = GenerationStore(
        REGION, scope=lambda k: k[0], generation=lambda k: k[1])
    store.put(("a", 1, "x"), "a1x")
    store.put(("a", 1, "y"), "a1y")
    store.put(("b", 1, "x"), "b1x")
    assert store.get(("a", 1, "x")) == "a1x" and store.get(("a", 1, "y")) == "a1y"
    store.put(("a", 2, "x"), "a2x")
    assert store.get(("a", 1, "x")) is None and store.get(("a", 1, "y")) is None, "older generation dropped"
    assert store.get(("a", 2, "x")) == "a2x"
    assert store.get(("b", 1, "x")) == "b1x", "another scope keeps its generation"
    assert store.peek(("a", 1, "x")) is None
    assert caches.stats()[REGION.name] == {"hits": 4, "misses": 2}
