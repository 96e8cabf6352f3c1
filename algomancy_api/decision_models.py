"""Wire models of the decision routes: the pinned baseline and acceptance rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from algomancy_api.models import Body


class BaselineIn(Body):
    scenario_id: str = Field(min_length=1, max_length=200, description="The scenario to pin.")


class BaselineOut(BaseModel):
    scenario_id: str | None = Field(description="The pinned baseline's id; null when none.")
    tag: str | None = Field(None, description="Its tag.")


class AcceptanceRule(Body):
    kpi: str = Field(min_length=1, max_length=200, description="The KPI the rule is about.")
    rule: Literal["improves", "not_worse", "within"] = Field(
        description="`improves`: better than the baseline (in the KPI's direction) by "
        "more than `tolerance`; `not_worse`: better or equal within `tolerance`; "
        "`within`: no further from the baseline than `tolerance`."
    )
    tolerance: float = Field(
        1e-9, ge=0, le=1e12, description="Relative (`mode=relative`) or absolute tolerance."
    )
    mode: Literal["absolute", "relative"] = Field(
        "relative", description="How `within` reads `tolerance` (the others: relative)."
    )


class AcceptanceIn(Body):
    baseline: str = Field(
        "pinned",
        min_length=1,
        description="The baseline's id or tag, or `pinned` (default) for the session's.",
    )
    candidates: list[str] = Field(
        default_factory=list,
        max_length=1_000,
        description="The candidate scenarios, by id or tag (or give `experiment`).",
    )
    experiment: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="An experiment's id: its scenarios are the candidates.",
    )
    rules: list[AcceptanceRule] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_kind_of_candidates(self) -> AcceptanceIn:
        if bool(self.candidates) == (self.experiment is not None):
            raise ValueError("give either candidates (one or more) or an experiment")
        return self
