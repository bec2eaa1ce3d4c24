"""The collector pause: off inside, back as it was after, also when the block fails."""

from __future__ import annotations

import gc

import pytest

from dashboard.imports.cycle_collector import cycle_collection_paused


def test_the_collector_is_off_inside_and_on_again_after_even_when_the_block_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("failed while checking")
    assert gc.isenabled()


def test_a_block_inside_another_leaves_the_collector_off_for_the_outer_one() -> None:
    with cycle_collection_paused():
        with cycle_collection_paused():
            pass
        assert not gc.isenabled(), "the inner block found it off and must leave it off"
    assert gc.isenabled()
