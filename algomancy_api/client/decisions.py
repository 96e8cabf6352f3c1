"""The decision routes for the clients: the pinned baseline, the comparison against
it, acceptance rules and reports. Mixed into both clients (after their own bases,
so their `_send` is the one called)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from algomancy_api.client._base import Call, Routes
from algomancy_api.client.models import Frame

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


def _baseline(body: Any) -> str | None:
    found: str | None = body["scenario_id"]
    return found


class DecisionRoutes:
    """The decision routes of one session as `Call`s."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    def baseline(self) -> Call[str | None]:
        return Call("GET", self.routes.scoped("/baseline"), _baseline)

    def pin(self, scenario_id: str) -> Call[str | None]:
        body = {"json": {"scenario_id": scenario_id}}
        return Call("PUT", self.routes.scoped("/baseline"), _baseline, body)

    def unpin(self) -> Call[str | None]:
        return Call("DELETE", self.routes.scoped("/baseline"), _baseline)

    def compare(
        self,
        ids: Sequence[str] | None,
        baseline: str | None,
        tolerance: float | None,
        parameters: bool,
        diff_only: bool,
    ) -> Call[Frame]:
        params: dict[str, Any] = {"parameters": parameters, "diff_only": diff_only}
        if ids is not None:
            params["ids"] = list(ids)
        if baseline is not None:
            params["baseline"] = baseline
        if tolerance is not None:
            params["tolerance"] = tolerance
        return Call(
            "GET", self.routes.scoped("/kpis/frame"), Frame.model_validate, {"params": params}
        )

    def acceptance(
        self, candidates: Sequence[str], rules: Sequence[Mapping[str, Any]], baseline: str
    ) -> Call[Frame]:
        body = {"baseline": baseline, "candidates": list(candidates), "rules": list(rules)}
        return Call("POST", self.routes.scoped("/acceptance"), Frame.model_validate, {"json": body})

    def report(self, ids: Sequence[str] | None, baseline: str | None, format: str) -> Call[bytes]:
        params: dict[str, Any] = {"format": format}
        if ids is not None:
            params["ids"] = list(ids)
        if baseline is not None:
            params["baseline"] = baseline
        return Call("GET", self.routes.scoped("/report"), bytes, {"params": params}, raw=True)


def comparison_dataframe(frame: Frame) -> pd.DataFrame:
    """A comparison frame as a DataFrame indexed by scenario tag."""
    return frame.to_pandas().set_index("scenario")


class DecisionsMixin:
    """`AlgomancyClient`'s decision methods."""

    routes: Routes

    def _send(self, call: Call[T]) -> T:  # the client's own comes first in the MRO
        raise NotImplementedError

    def baseline(self) -> str | None:
        """The id of the session's pinned baseline, or None."""
        return self._send(DecisionRoutes(self.routes).baseline())

    def pin_baseline(self, scenario_id: str) -> str | None:
        """Pin a scenario (by id) as the session's baseline; returns its id."""
        return self._send(DecisionRoutes(self.routes).pin(scenario_id))

    def unpin_baseline(self) -> None:
        self._send(DecisionRoutes(self.routes).unpin())

    def compare(
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
        return comparison_dataframe(self._send(call))

    def acceptance(
        self,
        candidates: Sequence[str],
        rules: Sequence[Mapping[str, Any]],
        baseline: str = "pinned",
    ) -> pd.DataFrame:
        """`pass`/`fail`/`missing` per candidate and rule, and `overall`, indexed by
        the candidate's tag. A rule: `{"kpi", "rule": "improves" | "not_worse" |
        "within", "tolerance", "mode": "relative" | "absolute"}`."""
        frame = self._send(DecisionRoutes(self.routes).acceptance(candidates, rules, baseline))
        return frame.to_pandas().set_index("candidate")

    def report(
        self, ids: Sequence[str] | None = None, baseline: str | None = None, format: str = "xlsx"
    ) -> bytes:
        """The comparison report as the bytes of an `xlsx`, `html` or `pdf` file."""
        return self._send(DecisionRoutes(self.routes).report(ids, baseline, format))


class AsyncDecisionsMixin:
    """`AsyncAlgomancyClient`'s decision methods (as `DecisionsMixin`'s)."""

    routes: Routes

    async def _send(self, call: Call[T]) -> T:
        raise NotImplementedError

    async def baseline(self) -> str | None:
        return await self._send(DecisionRoutes(self.routes).baseline())

    async def pin_baseline(self, scenario_id: str) -> str | None:
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
        call = DecisionRoutes(self.routes).compare(ids, baseline, tolerance, parameters, diff_only)
        return comparison_dataframe(await self._send(call))

    async def acceptance(
        self,
        candidates: Sequence[str],
        rules: Sequence[Mapping[str, Any]],
        baseline: str = "pinned",
    ) -> pd.DataFrame:
        call = DecisionRoutes(self.routes).acceptance(candidates, rules, baseline)
        return (await self._send(call)).to_pandas().set_index("candidate")

    async def report(
        self, ids: Sequence[str] | None = None, baseline: str | None = None, format: str = "xlsx"
    ) -> bytes:
        return await self._send(DecisionRoutes(self.routes).report(ids, baseline, format))
