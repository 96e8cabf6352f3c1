"""Experiment designs: the points (parameter values) a design asks for.

Pure functions over resolved axes: no store, no scenarios. An axis is one algorithm
or data parameter with the values it may take: explicit `values`, a `[low, high]`
range (numbers), or `choices` (enums, booleans). Random and Latin hypercube designs
draw a unit sample with numpy's seeded generator, Morris and Sobol designs with SALib
(`salib.py`), and map it onto each axis: floats linearly, integers and choices by
equal-width bins (each equally likely).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from algomancy_core.errors import InvalidInputError
from algomancy_core.experiments import salib
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

DesignKind = Literal["grid", "random", "lhs", "oat", "morris", "sobol"]
DESIGN_KINDS: tuple[str, ...] = ("grid", "random", "lhs", "oat", "morris", "sobol")


@dataclasses.dataclass(frozen=True, slots=True)
class Axis:
    """One varied parameter. `key` is how points and frame columns name it:
    the parameter's name, or `data.<name>` for a data parameter. A date axis keeps
    its range as day numbers (`date.toordinal`) and gives ISO dates; a float axis
    with `scale="log"` spreads its range evenly in the logarithm."""

    key: str
    type_name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    base: Any = None
    scale: str = "linear"

    @property
    def integer(self) -> bool:
        return self.type_name in ("integer", "date")

    def _out(self, number: int) -> Any:
        return date.fromordinal(number).isoformat() if self.type_name == "date" else number

    def discrete(self) -> tuple[Any, ...]:
        """The values a grid takes on this axis."""
        if self.values is not None:
            return self.values
        if self.integer and self.low is not None and self.high is not None:
            return tuple(
                self._out(i) for i in range(math.ceil(self.low), math.floor(self.high) + 1)
            )
        raise InvalidInputError(
            f"axis {self.key!r}: a grid needs explicit values for a {self.type_name} range"
        )

    def at(self, u: float) -> Any:
        """The axis value at `u` in [0, 1)."""
        if self.values is not None:
            index = min(math.floor(u * len(self.values)), len(self.values) - 1)
            return self.values[index]
        assert self.low is not None and self.high is not None
        if self.integer:  # each whole number (day) in [low, high] equally likely
            low, high = math.ceil(self.low), math.floor(self.high)
            return self._out(int(min(low + math.floor(u * (high - low + 1)), high)))
        if self.scale == "log":
            return float(self.low * (self.high / self.low) ** u)
        return float(self.low + u * (self.high - self.low))

    def ends(self) -> tuple[Any, Any]:
        """Low and high ends, for one-at-a-time designs."""
        if self.values is not None:
            return self.values[0], self.values[-1]
        assert self.low is not None and self.high is not None
        if self.integer:
            return self._out(int(self.low)), self._out(int(self.high))
        return float(self.low), float(self.high)


def _grid_size(axis: Axis) -> int:
    """How many values a grid takes on `axis`, without listing them."""
    if axis.values is None and axis.integer and axis.low is not None and axis.high is not None:
        return max(0, math.floor(axis.high) - math.ceil(axis.low) + 1)
    return len(axis.discrete())


def count_points(kind: str, axes: Sequence[Axis], n: int | None, levels: int | None = None) -> int:
    """How many points the design has, without building them (a cap is checked
    against this before a grid of billions is listed)."""
    if kind in salib.SALIB_KINDS:
        salib.check(kind, n, levels)
        assert n is not None
        return salib.size(kind, len(axes), n)
    if kind == "grid":
        return math.prod(_grid_size(axis) for axis in axes)
    if kind == "oat":
        return 1 + 2 * len(axes)
    return _sample_size(kind, n)


def _sample_size(kind: str, n: int | None) -> int:
    if n is None or n < 1:
        raise InvalidInputError(f"a {kind} design needs n >= 1 (the number of points)")
    return n


def points(
    kind: str,
    axes: Sequence[Axis],
    *,
    n: int | None = None,
    seed: int = 0,
    levels: int | None = None,
) -> list[dict[str, Any]]:
    """The design's points in order: `{axis key: value}` each."""
    if not axes:
        raise InvalidInputError("a design needs at least one axis")
    if kind == "grid":
        grids = [axis.discrete() for axis in axes]
        return [
            {axis.key: value for axis, value in zip(axes, combo, strict=True)}
            for combo in itertools.product(*grids)
        ]
    if kind == "oat":
        base = {axis.key: axis.base for axis in axes}
        out = [dict(base)]
        for axis in axes:
            low, high = axis.ends()
            out.append(base | {axis.key: low})
            out.append(base | {axis.key: high})
        return out
    if kind in salib.SALIB_KINDS:
        salib.check(kind, n, levels)
        assert n is not None
        return _mapped(axes, salib.unit_sample(kind, len(axes), n, seed, levels))
    size = _sample_size(kind, n)
    rng = np.random.default_rng(seed)
    if kind == "random":
        unit = rng.random((size, len(axes)))
    elif kind == "lhs":
        # One point in each of `size` equal strata per axis, strata shuffled per axis.
        unit = np.empty((size, len(axes)))
        for column in range(len(axes)):
            unit[:, column] = (rng.permutation(size) + rng.random(size)) / size
    else:
        raise InvalidInputError(f"unknown design kind {kind!r}; one of {', '.join(DESIGN_KINDS)}")
    return _mapped(axes, unit)


def _mapped(axes: Sequence[Axis], unit: np.ndarray) -> list[dict[str, Any]]:
    """Each row of a unit sample as a point (`Axis.at`)."""
    return [
        {axis.key: axis.at(float(u)) for axis, u in zip(axes, row, strict=True)} for row in unit
    ]


def excluded(
    planned: list[dict[str, Any]], exclusions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The points matching none of `exclusions` (each `{axis key: value}`, matched
    when the point has every one of its values)."""
    return [
        point
        for point in planned
        if not any(all(point.get(k) == v for k, v in rule.items()) for rule in exclusions)
    ]


def repeated(
    planned: list[dict[str, Any]], repetitions: int, seed: int, key: str
) -> list[dict[str, Any]]:
    """Each point `repetitions` times in a row, the copies told apart by distinct
    seeds under `key`, drawn (without replacement) with the design's seed."""
    seeds = np.random.default_rng(seed).choice(2**31 - 1, size=repetitions, replace=False)
    return [point | {key: int(s)} for point in planned for s in seeds]
