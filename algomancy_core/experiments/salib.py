"""Morris and Sobol designs and their sensitivity indices, through SALib.

SALib is optional (the `experiments` extra) and imported only here, when a Morris or
Sobol design is planned or analysed. Both sample the unit hypercube (each axis
`[0, 1]`), which the axes map onto their values like the random and Latin
hypercube designs do (`Axis.at`); the analyses read that same unit sample back, so
the indices of different axes compare on one scale.

- Morris: `n` trajectories of `len(axes) + 1` points on a grid of `levels` levels;
  the analysis gives, per axis, mu* (mean absolute elementary effect), mu and sigma.
- Sobol (Saltelli's scheme, first and total order): `n` base points, a power of 2,
  give `n x (len(axes) + 2)` points; the analysis gives S1 and ST with their
  confidence intervals (bootstrap, 95 %).
"""

from __future__ import annotations

import importlib
import math
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

SALIB_KINDS = ("morris", "sobol")
DEFAULT_LEVELS = 4
CONF_LEVEL = 0.95
RESAMPLES = 100


class MissingSALibError(InvalidInputError):
    """SALib is not installed (a 400 naming the extra to install)."""


def _module(name: str, kind: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingSALibError(
            f"a {kind} design needs SALib, which this server lacks: install the "
            "'experiments' extra (pip install 'algomancy-api[experiments]')"
        ) from None


def _problem(count: int) -> dict[str, Any]:
    return {
        "num_vars": count,
        "names": [f"x{i}" for i in range(count)],
        "bounds": [[0.0, 1.0]] * count,
    }


def check(kind: str, n: int | None, levels: int | None) -> None:
    """Bad `n` or `levels` for the kind: `InvalidInputError` naming it."""
    if n is None or n < 1:
        raise InvalidInputError(f"a {kind} design needs n >= 1 ({_n_meaning(kind)})")
    if kind == "sobol" and n & (n - 1):
        raise InvalidInputError(
            f"a sobol design needs n to be a power of 2 (Sobol' sequences), got {n}"
        )
    if kind == "morris" and levels is not None and (levels < 2 or levels % 2):
        raise InvalidInputError(f"a morris design needs an even levels >= 2, got {levels}")


def _n_meaning(kind: str) -> str:
    return "trajectories" if kind == "morris" else "base points, a power of 2"


def size(kind: str, dimensions: int, n: int) -> int:
    """Points of the design: trajectories x (axes + 1), or base points x (axes + 2)."""
    return n * (dimensions + 1) if kind == "morris" else n * (dimensions + 2)


def unit_sample(
    kind: str, dimensions: int, n: int, seed: int, levels: int | None = None
) -> np.ndarray:
    """The design's points in the unit hypercube, one row each (deterministic)."""
    if kind == "morris":
        sampler = _module("SALib.sample.morris", kind)
        return np.asarray(
            sampler.sample(_problem(dimensions), n, num_levels=levels or DEFAULT_LEVELS, seed=seed),
            dtype=float,
        )
    sampler = _module("SALib.sample.sobol", kind)
    sample = sampler.sample(_problem(dimensions), n, calc_second_order=False, seed=seed)
    return np.asarray(sample, dtype=float)


def analyse(
    kind: str,
    axes: list[str],
    unit: np.ndarray,
    outputs: list[float],
    *,
    seed: int,
    levels: int | None = None,
) -> list[dict[str, Any]]:
    """Per axis, Morris' mu*, mu, sigma (largest mu* first) or Sobol's S1 and ST with their
    confidence intervals (largest ST first)."""
    y = np.asarray(outputs, dtype=float)
    problem = _problem(len(axes))
    with warnings.catch_warnings():
        # A KPI constant over the design divides by a zero variance: indices are NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "morris":
            analyser = _module("SALib.analyze.morris", kind)
            found = analyser.analyze(
                problem,
                unit,
                y,
                num_resamples=RESAMPLES,
                conf_level=CONF_LEVEL,
                num_levels=levels or DEFAULT_LEVELS,
                seed=seed,
            )
            rows: list[dict[str, Any]] = [
                {
                    "parameter": axis,
                    "mu_star": _number(found["mu_star"][i]),
                    "mu_star_conf": _number(found["mu_star_conf"][i]),
                    "mu": _number(found["mu"][i]),
                    "sigma": _number(found["sigma"][i]),
                }
                for i, axis in enumerate(axes)
            ]
            rows.sort(key=lambda r: (r["mu_star"] is None, -(r["mu_star"] or 0.0)))
            return rows
        analyser = _module("SALib.analyze.sobol", kind)
        found = analyser.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=RESAMPLES,
            conf_level=CONF_LEVEL,
            seed=seed,
        )
    rows = [
        {
            "parameter": axis,
            "S1": _number(found["S1"][i]),
            "S1_conf": _number(found["S1_conf"][i]),
            "ST": _number(found["ST"][i]),
            "ST_conf": _number(found["ST_conf"][i]),
        }
        for i, axis in enumerate(axes)
    ]
    rows.sort(key=lambda r: (r["ST"] is None, -(r["ST"] or 0.0)))
    return rows


def _number(value: Any) -> float | None:
    """A finite float, else None (JSON has no NaN)."""
    number = float(value)
    return number if math.isfinite(number) else None
