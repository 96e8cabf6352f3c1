"""`wait()`'s deadline, shared by both clients (`algomancy_api.client.deadline`)."""

from __future__ import annotations

import pytest

from algomancy_api.client.deadline import Deadline


def test_the_read_timeout_is_the_timeout_within_the_keep_alive_bounds() -> None:
    assert Deadline("s", None).read_timeout() == 30.0
    assert Deadline("s", 600).read_timeout() == 30.0
    assert Deadline("s", 5).read_timeout() == 5
    assert Deadline("s", 0.01).read_timeout() == 0.1


def test_a_passed_deadline_raises_and_none_never_does() -> None:
    Deadline("s", None).check()
    Deadline("s", 3600).check()
    with pytest.raises(TimeoutError, match="scenario abc did not finish in -1 s"):
        Deadline("abc", -1).check()
