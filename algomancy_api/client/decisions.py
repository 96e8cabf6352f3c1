"""The decision routes for the clients: the pinned baseline, the comparison against
it, acceptance rules and reports, as `Call`s. The clients' methods for them are in
`aio_decisions` (and `sync_decisions`, generated from it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from algomancy_api.client.models import Frame
from algomancy_api.client.routes import Call, Routes

if TYPE_CHECKING:
    import pandas as pd


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
