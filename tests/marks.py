"""The `slow` rule: a test that starts a real process of the kinds below is marked
`slow`, so that the fast loop (`pytest -m "not slow" -n auto`) leaves it out.

`tests/conftest.py` marks the PostgreSQL tests itself and keeps `current` up to date;
the helpers that start the processes (`tests.server.ServerProcess`, the browser
fixtures) call `require_slow`, which fails a test that is not marked, saying so.
"""

from __future__ import annotations

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
