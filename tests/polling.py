"""The one polling helper of the test suite.

Tests wait for a condition, never for a time: `wait_for` probes until the answer is
the one wanted and returns it. Its timeout only guards against a hang (a generous
bound, so that a loaded machine does not fail a test); it is not a speed assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: How long a test waits for something that should happen at once on an idle machine.
DEFAULT_TIMEOUT = 60.0


def wait_for(
    probe: Callable[[], T],
    done: Callable[[T], object] = bool,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.02,
    what: str | None = None,
) -> T:
    """Call `probe` until `done(value)` holds (by default: until the value is truthy)
    and return that value; fail the test with the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what or 'condition'} not reached in {timeout} s; last value: {value!r}")
        time.sleep(interval)


def scenario_status(
    get: Callable[[str], Any], path: str, wanted: set[str], timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """Poll `GET {path}/status` through `get` (e.g. `client.get`) until the scenario's
    status is one of `wanted`; return the status body."""
    return wait_for(
        lambda: get(f"{path}/status").json(),
        lambda status: status.get("status") in wanted,
        timeout=timeout,
        what=f"{path} in {sorted(wanted)}",
    )
