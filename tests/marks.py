"""The `slow` rule: a test that starts a real process of the kinds below is marked
`slow`, so that the fast loop (`pytest -m "not slow" -n auto`) leaves it out.

`tests/conftest.py` marks the PostgreSQL tests itself and keeps `current` up to date;
the helpers that start the processes (`tests.server.ServerProcess`, the browser
fixtures) call `require_slow`, which fails a test that is not marked, saying so.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

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


#: A module marked slow as a whole, on a line of its own (docs/testing.md, Markers).
WHOLE_MODULE_SLOW = re.compile(r"^pytestmark = \[?pytest\.mark\.slow\b", re.MULTILINE)


def deselects_slow(markexpr: str) -> bool:
    """Whether `-m markexpr` leaves out a test marked `slow`, whatever other marks it
    has (so: `not slow`, `not slow and not postgres`; not `not slow or postgres`)."""
    if not markexpr:
        return False
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(markexpr)
    except Exception:  # pytest reports a malformed expression itself
        return False
    only_slow = expression.evaluate(lambda name, **_: name == "slow")
    every_mark = expression.evaluate(lambda name, **_: True)
    return not only_slow and not every_mark


def skip_whole_slow_module(path: Path, markexpr: str) -> bool:
    """Whether collecting `path` can be left out: `-m` leaves out slow tests and the
    module marks all its tests slow (`pytestmark = pytest.mark.slow` at its top), so
    every test of it would be deselected after collection anyway. It matters for
    `test_api_schemathesis.py`, whose collection generates each operation's coverage
    examples: ~4 s of CPU in each xdist worker of the fast loop."""
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return False
    if not deselects_slow(markexpr):
        return False
    return WHOLE_MODULE_SLOW.search(path.read_text(encoding="utf-8")) is not None
