"""The decision methods of `AsyncAlgomancyClient`: the pinned baseline, the
comparison against it, acceptance rules and reports. Mixed into the client (after
its own bases, so its `_send` is the one called). `sync_decisions` is generated
from this file (`python scripts/unasync_client.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from algomancy_api.client.decisions import DecisionRoutes, comparison_dataframe
from algomancy_api.client.routes import Call, Routes

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


class AsyncDecisionsMixin:
    """`AsyncAlgomancyClient`'s decision methods."""

    routes: Routes

    if TYPE_CHECKING:
        # The client's own, found first in the MRO; declared here for the type checker.
        async def _send(self, call: Call[T]) -> T: ...

    async def baseline(self) -> str | None:
        """The id of the session's pinned baseline, or None."""
        return await self._send(DecisionRoutes(self.routes).baseline())

    async def pin_baseline(self, scenario_id: str) -> str | None:
        """Pin a scenario (by id) as the session's baseline; returns its id."""
        return await self._send(DecisionRoutes(self.routes).pin(scenario_id))

    async def unpin_baseline(self) -> None:
        await self._send(DecisionRoutes(self.routes).unpin())

    async def compare(
        self,
        ids: Sequence[str] | None = None,
        baseline: str | None = None,
        *,
        tolerance: float | None = None,
        parameters: bool = False,
        diff_only: bool = False,
    ) -> pd.DataFrame:
        """The KPI comparison of the scenarios `ids` (ids or tags; all by default)
        indexed by tag. With `baseline` (an id, a tag or `"pinned"`), the baseline's
        row first and per KPI the columns `<kpi>.delta`, `<kpi>.delta_rel` and
        `<kpi>.verdict`; `parameters`/`diff_only` add `param.<name>` columns."""
        call = DecisionRoutes(self.routes).compare(ids, baseline, tolerance, parameters, diff_only)
        return comparison_dataframe(await self._send(call))

    async def acceptance(
        self,
        candidates: Sequence[str],
        rules: Sequence[Mapping[str, Any]],
        baseline: str = "pinned",
    ) -> pd.DataFrame:
        """`pass`/`fail`/`missing` per candidate and rule, and `overall`, indexed by
        the candidate's tag. A rule: `{"kpi", "rule": "improves" | "not_worse" |
        "within", "tolerance", "mode": "relative" | "absolute"}`."""
        call = DecisionRoutes(self.routes).acceptance(candidates, rules, baseline)
        frame = await self._send(call)
        return frame.to_pandas().set_index("candidate")

    async def report(
        self, ids: Sequence[str] | None = None, baseline: str | None = None, format: str = "xlsx"
    ) -> bytes:
        """The comparison report as the bytes of an `xlsx`, `html` or `pdf` file."""
        return await self._send(DecisionRoutes(self.routes).report(ids, baseline, format))
