"""What every point of an experiment shares, worked out once: the checked base
parameter values, the algorithm's version and the installed versions its lineage
records.

A point's own part is then its parameter values (only those the point sets are
checked), its seed, lineage and fingerprint. The fields made here are the fields
`create_scenario` makes (`lineage.run_lineage`; the tests compare them). The hot
path of an experiment's `POST` (`benchmarks/pool_points.py`, E2, and
`benchmarks/bench_experiments.py`, creation): per point, checking its values took
5.1 µs as a whole parameter set and 2.2 as the point's own (timeit, best of 7, one
integer parameter); its fields with lineage and fingerprint 15.1 µs through a
draft record and `run_lineage`, 4.2 here. Hashing the fingerprint's common prefix
once (a copy of the hash per point) was tried and was slower than hashing each
point's whole JSON (3.7 against 2.4 µs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.lineage import (
    algomancy_version,
    algorithm_version,
    default_seed,
    domain_version,
)
from algomancy_core.lineage import fingerprint as run_fingerprint
from algomancy_core.parameters import ParameterError
from algomancy_core.parameters.parameter_set import BaseParameterSet

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager
    from algomancy_core.stores.base import DatasetVersion


def _plain(kind: type[BaseParameterSet]) -> bool:
    """Whether `kind` checks and writes its values as `BaseParameterSet` does: each
    value on its own, so that a base checked once stays checked."""
    return all(
        getattr(kind, name) is getattr(BaseParameterSet, name)
        for name in ("__init__", "set_values", "to_json")
    )


class CheckedValues:
    """Parameter values over a base, checked as `set_values` then `to_json` of a
    fresh `kind` checks and writes them. When `kind` is plain (`_plain`) and the
    base alone is valid, the base is checked once and a point's own values on
    their own; otherwise (or when a point's value fails, so that the error is the
    one `set_values` gives) the whole set is checked again."""

    def __init__(self, kind: type[BaseParameterSet], base: Mapping[str, Any]) -> None:
        self._kind = kind
        self._base = dict(base)
        self._declared = kind._parameters
        self._resolved: dict[str, Any] | None = None
        # When the base alone fails, each point says why (or sets what it lacks).
        if _plain(kind):
            with contextlib.suppress(ParameterError):
                self._resolved = self._whole({})

    def _whole(self, values: Mapping[str, Any]) -> dict[str, Any]:
        made = self._kind()
        made.set_values(self._base | dict(values))
        return made.to_json()

    def of(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON values of the base with `values` over it; `ParameterError` names
        a bad one."""
        resolved, declared = self._resolved, self._declared
        if resolved is None or not all(name in declared for name in values):
            return self._whole(values)
        out = dict(resolved)
        try:
            for name, value in values.items():
                parameter = declared[name]
                parsed = parameter.parse(value)
                out[name] = None if parsed is None else parameter.to_json(parsed)
        except ParameterError:
            return self._whole(values)  # raises the error a whole check gives
        return out


class PointTemplate:
    """The fields of an experiment's points (`fields`), the shared part made once."""

    def __init__(self, manager: ScenarioManager, algo_name: str) -> None:
        algorithm = manager.algorithm(algo_name)
        self._session_id = manager.session_id
        self._algo_name = algo_name
        self._version = algorithm_version(algorithm)
        self._algomancy = algomancy_version()
        self._domain = domain_version(algorithm)

    def fields(
        self,
        pinned: DatasetVersion,
        values: dict[str, Any],
        data_values: dict[str, Any],
        seed: int | None,
    ) -> dict[str, Any]:
        """The fields of the scenario a point would be (but its id, tag and state),
        with its lineage and run fingerprint as `create_scenario` computes them: the
        `pinned` dataset version, `seed` or the default seed. Fields, not a record:
        the record is made once, when its id and tag are known (`add_queued`)."""
        digest = pinned.digest
        if seed is None:
            seed = default_seed(digest, self._algo_name, values, data_values)
        lineage = {
            "known": pinned.version is not None,
            "dataset_key": pinned.key,
            "dataset_version": pinned.version,
            "dataset_digest": digest,
            "algorithm": {"name": self._algo_name, "version": self._version},
            "parameters": dict(values),
            "data_parameters": dict(data_values),
            "seed": seed,
            "algomancy_version": self._algomancy,
            "domain_version": self._domain,
            "executor": None,
        }
        fingerprint = None
        if pinned.version is not None:
            fingerprint = run_fingerprint(
                digest, self._algo_name, self._version, values, data_values, seed
            )
        return {
            "session_id": self._session_id,
            "dataset_key": pinned.key,
            "algorithm": self._algo_name,
            "parameters": values,
            "data_parameters": data_values,
            "dataset_version": pinned.version,
            "dataset_digest": digest,
            "seed": seed,
            "lineage": lineage,
            "fingerprint": fingerprint,
        }
