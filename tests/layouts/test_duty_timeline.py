"""The duty timeline's state arrow: a change, an import straight into a state, or nothing."""

from __future__ import annotations

from layouts.duty import _transition


def test_the_arrow_shows_only_a_change_of_state() -> None:
    assert _transition("received", "assessed", "zh") == " 受理 → 研判"
    assert _transition(None, "followed_up", "zh") == " → 回访", "an imported case enters its state directly"
    assert _transition(None, "received", "zh") == "", "receipt is the action's own name"
    assert _transition("mediating", "mediating", "en") == "", "a side move keeps the state"
