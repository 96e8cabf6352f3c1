"""Deciding between scenarios: the pinned baseline's rule, deltas, verdicts and
acceptance rules. Pure functions over KPI values; no I/O, no web framework.

A KPI's `direction` says which values are better, so verdicts need no setting:

- `higher` / `lower`: `improved`, `worse` or `equal` (within a relative tolerance)
  against the baseline's value;
- `at_least` / `at_most` with a threshold: `pass` or `fail` of the value against
  the threshold (the baseline's value does not enter); without a threshold they
  compare as `higher` / `lower`;
- a missing value (the scenario or the baseline is not complete, or the KPI has no
  value) gives `missing` and null deltas.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from algomancy_core.errors import ConflictError, InvalidInputError
from algomancy_core.kpi import KpiDirection
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

Verdict = Literal["improved", "worse", "equal", "pass", "fail", "missing"]
Outcome = Literal["pass", "fail", "missing"]

#: The default relative tolerance of "equal".
DEFAULT_TOLERANCE = 1e-9

_HIGHER = (KpiDirection.HIGHER, KpiDirection.AT_LEAST)


def baseline_pinned(tag: str, scenario_id: str) -> ConflictError:
    """The 409 of deleting the session's pinned baseline."""
    return ConflictError(
        f"scenario {tag!r} ({scenario_id}) is the session's pinned baseline; "
        "unpin it (DELETE …/baseline) or pin another one before deleting it"
    )


def present(value: object) -> float | None:
    """`value` as a finite float, or None when it is missing."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def deltas(values: np.ndarray, base: float | None) -> tuple[np.ndarray, np.ndarray]:
    """`values - base` and `(values - base) / |base|` (NaN for a missing value; the
    relative one is NaN everywhere when the baseline is 0 or missing)."""
    if base is None:
        nothing = np.full(len(values), np.nan)
        return nothing, nothing.copy()
    absolute = values - base
    relative = absolute / abs(base) if base != 0 else np.full(len(values), np.nan)
    return absolute, relative


def check_tolerance(tolerance: float) -> float:
    if not math.isfinite(tolerance) or tolerance < 0:
        raise InvalidInputError(f"tolerance must be a finite number >= 0, not {tolerance}")
    return tolerance


def direction_verdicts(
    direction: KpiDirection, values: np.ndarray, base: float | None, tolerance: float
) -> np.ndarray:
    """`improved`, `worse` or `equal` of each value against `base` in the KPI's
    direction; `equal` is `math.isclose` with `rel_tol=tolerance`:
    `|v - b| <= tolerance * max(|v|, |b|)`. NaN values, or no base, are `missing`."""
    if base is None:
        return np.full(len(values), "missing", dtype=object)
    with np.errstate(invalid="ignore"):
        equal = np.abs(values - base) <= tolerance * np.maximum(np.abs(values), abs(base))
        better = values > base if direction in _HIGHER else values < base
    found = np.where(equal, "equal", np.where(better, "improved", "worse")).astype(object)
    found[np.isnan(values)] = "missing"
    return found


def verdicts(
    direction: KpiDirection,
    threshold: float | None,
    values: np.ndarray,
    base: float | None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> np.ndarray:
    """The comparison's verdict for one KPI over many scenarios (NaN = missing; see
    the module's docstring)."""
    if base is None:
        return np.full(len(values), "missing", dtype=object)
    if threshold is not None and direction in (KpiDirection.AT_LEAST, KpiDirection.AT_MOST):
        with np.errstate(invalid="ignore"):
            ok = values >= threshold if direction is KpiDirection.AT_LEAST else values <= threshold
        found = np.where(ok, "pass", "fail").astype(object)
        found[np.isnan(values)] = "missing"
        return found
    return direction_verdicts(direction, values, base, tolerance)


def verdict(
    direction: KpiDirection,
    threshold: float | None,
    value: float | None,
    base: float | None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verdict:
    """`verdicts` of one value (None = missing)."""
    found: Verdict = verdicts(direction, threshold, _array(value), base, tolerance)[0]
    return found


def _array(value: float | None) -> np.ndarray:
    return np.array([np.nan if value is None else value], dtype=np.float64)


# -- acceptance rules ------------------------------------------------------------
RuleKind = Literal["improves", "not_worse", "within"]
RuleMode = Literal["absolute", "relative"]


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One acceptance rule on one KPI:

    - `improves`: the candidate is better than the baseline by more than the
      relative `tolerance` (in the KPI's direction);
    - `not_worse`: it is better or equal within `tolerance`;
    - `within`: `|candidate - baseline|` is at most `tolerance` (`absolute`), or at
      most `tolerance` times `|baseline|` (`relative`; a baseline of 0 then needs
      the same value).
    """

    kpi: str
    rule: RuleKind
    tolerance: float = DEFAULT_TOLERANCE
    mode: RuleMode = "relative"

    @property
    def label(self) -> str:
        if self.rule == "within":
            return f"{self.kpi} within {self.tolerance:g} {self.mode}"
        return f"{self.kpi} {self.rule}"


def check_rules(rules: Iterable[Rule], kpis: Mapping[str, KpiDirection]) -> list[Rule]:
    """The rules, checked against the KPIs the server knows (400 naming the wrong one)."""
    checked = list(rules)
    if not checked:
        raise InvalidInputError("rules: give at least one rule")
    for rule in checked:
        if rule.kpi not in kpis:
            known = ", ".join(kpis) or "none"
            raise InvalidInputError(f"rules: unknown KPI {rule.kpi!r} (KPIs: {known})")
        check_tolerance(rule.tolerance)
    return checked


def apply_rule(
    rule: Rule, direction: KpiDirection, value: float | None, base: float | None
) -> Outcome:
    """`pass`, `fail` or `missing` of one rule for one candidate."""
    if value is None or base is None:
        return "missing"
    if rule.rule == "within":
        gap = abs(value - base)
        limit = rule.tolerance if rule.mode == "absolute" else rule.tolerance * abs(base)
        return "pass" if gap <= limit else "fail"
    found = direction_verdicts(direction, _array(value), base, rule.tolerance)[0]
    if rule.rule == "improves":
        return "pass" if found == "improved" else "fail"
    return "pass" if found != "worse" else "fail"


def overall(outcomes: Iterable[Outcome]) -> Outcome:
    """`pass` when every rule passes; `missing` when none failed but one lacked a
    value; `fail` otherwise."""
    seen = set(outcomes)
    if "fail" in seen:
        return "fail"
    return "missing" if "missing" in seen else "pass"
