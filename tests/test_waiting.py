"""``wait_until``: returns the first truthy value, fails with what it waited for, and never waits
past its deadline. Time is a fake clock here, so nothing sleeps and nothing depends on the machine."""

from __future__ import annotations

import pytest

from tests.waiting import describe, wait_until


class FakeTime:
    """A clock that moves only when the helper sleeps, and a record of every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_truthy_value_without_sleeping_when_it_already_holds() -> None:
    fake = FakeTime()
    assert wait_until(lambda: {"open": 3}, 5, clock=fake.clock, sleep=fake.sleep) == {"open": 3}
    assert fake.sleeps == []


def test_checks_again_every_interval_until_the_condition_holds() -> None:
    fake = FakeTime()
    answers = iter([None, 0, [], "ready"])
    assert wait_until(lambda: next(answers), 5, interval=0.25, clock=fake.clock, sleep=fake.sleep) == "ready"
    assert fake.sleeps == [0.25, 0.25, 0.25]


def test_times_out_with_what_it_waited_for_the_last_value_and_how_long() -> None:
    fake = FakeTime()
    seen = iter(range(100))
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: next(seen) > 1000, 1.0, interval=0.3, message="the counter to pass 1000",
                   clock=fake.clock, sleep=fake.sleep)
    text = str(failure.value)
    assert "the counter to pass 1000" in text
    assert "last seen: False" in text
    assert "timed out after 1.00 s (timeout 1 s)" in text


def test_never_sleeps_past_the_deadline_and_looks_once_more_at_it() -> None:
    fake = FakeTime()
    calls: list[float] = []

    def never() -> bool:
        calls.append(fake.now)
        return False

    with pytest.raises(AssertionError):
        wait_until(never, 1.0, interval=0.3, clock=fake.clock, sleep=fake.sleep)
    assert sum(fake.sleeps) == pytest.approx(1.0), "it waits the timeout, not a whole interval beyond it"
    assert fake.sleeps[-1] == pytest.approx(0.1)
    assert calls[-1] == pytest.approx(1001.0), "the last look is at the deadline"


def test_without_a_message_it_names_the_condition_by_its_source() -> None:
    fake = FakeTime()
    with pytest.raises(AssertionError, match=r"lambda: 1 \+ 1 == 3"):
        wait_until(lambda: 1 + 1 == 3, 0.1, clock=fake.clock, sleep=fake.sleep)
    assert describe(test_without_a_message_it_names_the_condition_by_its_source).endswith("by_its_source")


def test_a_message_may_be_computed_when_it_fails() -> None:
    fake = FakeTime()
    state = {"diffs": ["a"]}
    with pytest.raises(AssertionError, match=r"no differences left, still \['a'\]"):
        wait_until(lambda: not state["diffs"], 0.1, message=lambda: f"no differences left, still {state['diffs']}",
                   clock=fake.clock, sleep=fake.sleep)


def test_ignored_exceptions_mean_not_yet_and_the_last_one_is_the_cause() -> None:
    fake = FakeTime()
    answers = iter([LookupError("not drawn yet"), LookupError("still not"), 7])

    def read() -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(read, 5, ignoring=(LookupError,), clock=fake.clock, sleep=fake.sleep) == 7

    def missing() -> int:
        raise LookupError("never drawn")

    with pytest.raises(AssertionError, match="never drawn") as failure:
        wait_until(missing, 0.2, ignoring=(LookupError,), clock=fake.clock, sleep=fake.sleep)
    assert isinstance(failure.value.__cause__, LookupError)


def test_other_exceptions_propagate_at_once() -> None:
    fake = FakeTime()

    def broken() -> bool:
        raise ValueError("a bug, not a wait")

    with pytest.raises(ValueError, match="a bug"):
        wait_until(broken, 5, ignoring=(LookupError,), clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == []


def test_on_the_real_clock_it_gives_up() -> None:
    with pytest.raises(AssertionError, match="nothing ever holds"):
        wait_until(lambda: False, 0.05, interval=0.01, message="nothing ever holds")
