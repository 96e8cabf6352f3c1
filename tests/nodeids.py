"""Every test item has a node id of its own.

pytest-xdist hands tests to its workers by node id: of several items with one id, the
first runs and the others silently do not. Schemathesis (4.32) names the test of each
API operation `test_x[GET /path]`, but pytest 9.2 builds an item's id from the
function's name and its `parametrize` ids alone, so every operation's test had the id
`test_x`, and under `-n` (the README's command) one operation of each schema was
tested instead of all of them. `give_operations_their_ids` puts the operation back
into the id; `refuse_repeated_ids` stops the run when ids still repeat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest


def give_operations_their_ids(items: Sequence[pytest.Item]) -> None:
    """A schemathesis item whose id lacks its operation gets `…::test_x[METHOD /path]`,
    the name it was given."""
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label is None or node_id is None or node_id.params is not None:
            continue
        if item.name == f"{node_id.names[-1]}[{label}]":
            item._id = node_id.with_params(label)


def refuse_repeated_ids(items: Sequence[pytest.Item]) -> None:
    """Fail the collection, naming them, when two items share an id."""
    repeated = [node_id for node_id, n in Counter(i.nodeid for i in items).items() if n > 1]
    if repeated:
        shown = ", ".join(repeated[:5])
        raise pytest.UsageError(
            f"{len(repeated)} test ids are shared by several tests ({shown}): under -n "
            "pytest-xdist would run one test of each and skip the others (tests/nodeids.py)"
        )
