"""The `slow` rule: a test that starts a real process of the kinds below is marked
`slow`, so that the fast loop (`pytest -m "not slow" -n auto`) leaves it out.

`tests/conftest.py` marks the PostgreSQL tests itself and keeps `current` up to date;
the helpers that start the processes (`tests.server.ServerProcess`, the browser
fixtures) call `require_slow`, which fails a test that is not marked, saying so.
"""

from __future__ import annotations

from collections import Counter

import pytest

#: The test being run (its setup, call and teardown), or None outside a test.
current: pytest.Item | None = None


def require_slow(what: str) -> None:
    """Fail the current test when it starts `what` without the `slow` mark."""
    item = current
    if item is None or item.get_closest_marker("slow") is not None:
        return
    pytest.fail(
        f"{item.nodeid} starts {what} but is not marked slow: add `@pytest.mark.slow` "
        "(or `pytestmark = pytest.mark.slow` for the module), so that the fast loop "
        '(`pytest -m "not slow"`) leaves it out (docs/testing.md)',
        pytrace=False,
    )


def slow_files_first(items: list[pytest.Item]) -> None:
    """Order `items` file by file, the files with the most slow tests first (the order
    within a file, and among files of as many, kept). Under `-n`, each file runs whole
    in one worker and the workers take the files in this order: the long ones start
    first and the many short ones fill the gaps at the end, rather than a long file
    starting last while the other workers idle."""
    slow = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])
