"""Intermediate values of a run (`RunContext.report(value, step)`), as kept with the
scenario: the `(step, value)` pairs of its latest run, in the order reported.

A run keeps at most `REPORTS_KEPT` of them. Past that the older ones are thinned,
never the latest: every other one is dropped (the first and the latest always
stay), so a long run keeps its whole course at a coarser grain towards its start,
and the latest value, the one a pruner judges, is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable

#: One intermediate value: `(step, value)`.
Report = tuple[int, float]

#: The most intermediate values kept per run.
REPORTS_KEPT = 10_000


def thin(reports: list[Report], limit: int = REPORTS_KEPT) -> list[Report]:
    """`reports` cut to at most `limit` (2 or more): while over it, every other
    report is dropped, keeping the first and the latest."""
    if limit < 2:
        raise ValueError("at least two reports are kept (the first and the latest)")
    while len(reports) > limit:
        reports = [*reports[:-1:2], reports[-1]]
    return reports


def appended(
    kept: Iterable[Report], new: Iterable[Report], limit: int = REPORTS_KEPT
) -> list[Report]:
    """`kept` followed by `new`, thinned to `limit`."""
    return thin([*kept, *new], limit)
