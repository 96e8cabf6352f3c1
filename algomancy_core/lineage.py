"""What a run was made of: lineage, the run fingerprint and the run's seed.

A scenario's lineage records the dataset version and digest it ran on, the algorithm
and its version, the parameter and data parameter values, the seed, the versions of
Algomancy and of the domain package, and the executor. The fingerprint is the sha256
of the canonical JSON of (dataset digest, algorithm name and version, parameters, data
parameters, seed): two runs with one fingerprint ran the same thing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import threading
from collections.abc import Mapping
from typing import Any

import orjson

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.scenario import ScenarioRecord

#: Seeds are drawn from [0, SEED_LIMIT): they fit every random generator's seed.
SEED_LIMIT = 2**31


def canonical_json(value: Any) -> bytes:
    """`value` as JSON with sorted keys and no spaces: one byte string per value."""
    return orjson.dumps(
        value,
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
        default=str,
    )


def algorithm_version(algorithm: type[BaseAlgorithm]) -> str:
    """The algorithm's `version` attribute, else `src-` and a digest of its class's
    source (or of its qualified name when the source cannot be read)."""
    declared = getattr(algorithm, "version", None)
    if declared is not None and str(declared).strip():
        return str(declared)
    return _source_version(algorithm)


_SOURCE_LOCK = threading.Lock()


@functools.cache
def _source_version(algorithm: type[BaseAlgorithm]) -> str:
    # Read once per class, one class at a time: `inspect` parses whole modules, and
    # CPython 3.11's parser fails when several threads do it at once.
    with _SOURCE_LOCK:
        try:
            source = inspect.getsource(algorithm)
        except Exception:  # no file (a REPL, a zip), or a parser failure
            source = f"{algorithm.__module__}.{algorithm.__qualname__}"
    return "src-" + hashlib.sha256(source.encode()).hexdigest()[:16]


@functools.cache
def _distribution_of(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        pass
    for name in importlib.metadata.packages_distributions().get(package, []):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def domain_version(algorithm: type[BaseAlgorithm]) -> str | None:
    """The installed version of the algorithm's top-level package, or None."""
    return _distribution_of(algorithm.__module__.split(".")[0])


def algomancy_version() -> str | None:
    return _distribution_of("algomancy-api") or _distribution_of("algomancy_api")


def default_seed(
    dataset_digest: str | None,
    algorithm: str,
    parameters: Mapping[str, Any],
    data_parameters: Mapping[str, Any],
) -> int:
    """The seed of a scenario created without one: derived from what it runs, so that
    two scenarios of the same thing get the same seed (and one fingerprint)."""
    payload = canonical_json(
        {
            "dataset_digest": dataset_digest,
            "algorithm": algorithm,
            "parameters": dict(parameters),
            "data_parameters": dict(data_parameters),
        }
    )
    return int.from_bytes(hashlib.sha256(payload).digest()[:8], "big") % SEED_LIMIT


def fingerprint(
    dataset_digest: str | None,
    algorithm: str,
    version: str,
    parameters: Mapping[str, Any],
    data_parameters: Mapping[str, Any],
    seed: int | None,
) -> str:
    """The run fingerprint (see the module)."""
    payload = canonical_json(
        {
            "dataset_digest": dataset_digest,
            "algorithm": {"name": algorithm, "version": version},
            "parameters": dict(parameters),
            "data_parameters": dict(data_parameters),
            "seed": seed,
        }
    )
    return hashlib.sha256(payload).hexdigest()


def lineage(
    *,
    dataset_key: str,
    dataset_version: int | None,
    dataset_digest: str | None,
    algorithm: type[BaseAlgorithm] | None,
    algorithm_name: str,
    parameters: Mapping[str, Any],
    data_parameters: Mapping[str, Any],
    seed: int | None,
    executor: str | None,
) -> dict[str, Any]:
    """A lineage object; `known` is False when the dataset version is unknown (a
    scenario from before versions whose data could not be proven)."""
    return {
        "known": dataset_version is not None,
        "dataset_key": dataset_key,
        "dataset_version": dataset_version,
        "dataset_digest": dataset_digest,
        "algorithm": {
            "name": algorithm_name,
            "version": algorithm_version(algorithm) if algorithm is not None else None,
        },
        "parameters": dict(parameters),
        "data_parameters": dict(data_parameters),
        "seed": seed,
        "algomancy_version": algomancy_version(),
        "domain_version": domain_version(algorithm) if algorithm is not None else None,
        "executor": executor,
    }


def unknown_lineage(dataset_key: str) -> dict[str, Any]:
    """The lineage of a scenario whose dataset version cannot be proven."""
    return {"known": False, "dataset_key": dataset_key, "dataset_version": None}


def run_lineage(
    record: ScenarioRecord, algorithm: type[BaseAlgorithm] | None, executor: str | None
) -> dict[str, Any]:
    """The `lineage` and `fingerprint` fields of a scenario about to run (or just
    created: `executor` None) on its pinned dataset version."""
    found = lineage(
        dataset_key=record.dataset_key,
        dataset_version=record.dataset_version,
        dataset_digest=record.dataset_digest,
        algorithm=algorithm,
        algorithm_name=record.algorithm,
        parameters=record.parameters,
        data_parameters=record.data_parameters,
        seed=record.seed,
        executor=executor,
    )
    print_: str | None = None
    if record.dataset_version is not None and algorithm is not None:
        print_ = fingerprint(
            record.dataset_digest,
            record.algorithm,
            found["algorithm"]["version"],
            record.parameters,
            record.data_parameters,
            record.seed,
        )
    return {"lineage": found, "fingerprint": print_}


def executor_name(executor: object) -> str:
    """`thread`, `process`, `dask`, or the class name of another executor."""
    name = getattr(executor, "name", None)
    if isinstance(name, str) and name:
        return name
    return type(executor).__name__.removesuffix("Executor").lower() or type(executor).__name__
