"""Acceptance: candidates against a baseline under rules per KPI, as a DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algomancy_api.compare import Resolver, kpi_value
from algomancy_api.decision_models import AcceptanceIn
from algomancy_core import ScenarioManager, ScenarioRecord
from algomancy_core.decisions import Outcome, Rule, apply_rule, check_rules, overall
from algomancy_core.experiments.service import get_experiment
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def _value(record: ScenarioRecord, kpi: str) -> float | None:
    value = kpi_value(record, kpi)
    return None if value != value else value  # NaN: missing


def _labels(rules: list[Rule]) -> list[str]:
    """Each rule's column name, unique (`#2`, `#3` ... on repeats)."""
    labels: list[str] = []
    for rule in rules:
        label, n = rule.label, 1
        while label in labels or label in ("candidate", "id", "overall"):
            n += 1
            label = f"{rule.label} #{n}"
        labels.append(label)
    return labels


def acceptance(manager: ScenarioManager, body: AcceptanceIn) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per candidate: its tag and id, `pass`/`fail`/`missing` per rule, and
    `overall` (pass only when every rule passes); and the frame's context."""
    kpis = manager.kpi_templates
    rules = check_rules(
        (Rule(r.kpi, r.rule, r.tolerance, r.mode) for r in body.rules),
        {name: kpi.direction for name, kpi in kpis.items()},
    )
    resolver = Resolver(manager)
    base = resolver.baseline(body.baseline)
    assert base is not None  # a ref always resolves or raises
    if body.experiment is not None:
        # NotFoundError names an unknown experiment; points not made yet are left out.
        planned = get_experiment(manager, body.experiment).scenario_ids
        candidates = resolver.select([i for i in planned if i])
    else:
        candidates = resolver.select(body.candidates)
    labels = _labels(rules)
    data: dict[str, list[Any]] = {
        "candidate": [c.tag for c in candidates],
        "id": [c.id for c in candidates],
    }
    results: list[list[Outcome]] = [[] for _ in candidates]
    for rule, label in zip(rules, labels, strict=True):
        direction = kpis[rule.kpi].direction
        base_value = _value(base, rule.kpi)
        column: list[Outcome] = []
        for outcomes, candidate in zip(results, candidates, strict=True):
            found = apply_rule(rule, direction, _value(candidate, rule.kpi), base_value)
            column.append(found)
            outcomes.append(found)
        data[label] = list(column)
    data["overall"] = [overall(outcomes) for outcomes in results]
    context = {
        "baseline": {"id": base.id, "tag": base.tag},
        "rules": [
            {
                "column": label,
                "kpi": r.kpi,
                "rule": r.rule,
                "tolerance": r.tolerance,
                "mode": r.mode,
            }
            for r, label in zip(rules, labels, strict=True)
        ],
    }
    return pd.DataFrame(data, columns=list(data)), context
