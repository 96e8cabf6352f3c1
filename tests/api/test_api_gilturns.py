"""`algomancy_api.gilturns.short_turns`: the process's GIL switch interval is short
while a pure-Python step runs in a worker thread, and back to what it was when the
last such step ends, whichever thread ends last and however the step ends."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from algomancy_api.gilturns import SHORT_TURN_SECONDS, short_turns


@pytest.fixture(autouse=True)
def usual_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(before)


def test_the_interval_is_short_inside_and_as_before_after() -> None:
    with short_turns():
        assert sys.getswitchinterval() == pytest.approx(SHORT_TURN_SECONDS)
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_step_that_fails_still_gives_the_interval_back() -> None:
    with pytest.raises(RuntimeError), short_turns():
        raise RuntimeError("the writer failed")
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_steps_in_two_threads_share_it_until_the_last_ends() -> None:
    entered, release = threading.Event(), threading.Event()

    def other_step() -> None:
        with short_turns():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other_step)
    with short_turns():
        thread.start()
        assert entered.wait(10)
    # This thread's step ended first: the other one still runs in short turns.
    assert sys.getswitchinterval() == pytest.approx(SHORT_TURN_SECONDS)
    release.set()
    thread.join(10)
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_longer_interval_is_never_set() -> None:
    sys.setswitchinterval(0.0005)
    with short_turns():
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    assert sys.getswitchinterval() == pytest.approx(0.0005)
