"""`ScenarioCatalog`: one session's algorithms, KPIs and scenario records (new,
imported, found, stale, the pinned baseline), below `ScenarioManager`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.audit import audit_subject
from algomancy_core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from algomancy_core.kpi import BaseKPI
from algomancy_core.lineage import SEED_LIMIT, default_seed, run_lineage
from algomancy_core.names import check_name, name_key, nfc, tag_taken
from algomancy_core.parameters import BaseParameterSet, ParameterError
from algomancy_core.scenario import (
    ScenarioRecord,
    ScenarioStatus,
    new_id,
    utcnow,
)
from algomancy_core.session_datasets import SessionDatasets
from algomancy_core.stores.base import DatasetVersion
from algomancy_data import DataSource
from algomancy_data.digest import content_digest

S = ScenarioStatus


class ScenarioCatalog(SessionDatasets):
    """One session's scenarios as records: what can be made, made from elsewhere,
    found and pinned; `ScenarioManager` adds what moves them."""

    # -- discovery -----------------------------------------------------------
    @property
    def available_algorithms(self) -> list[str]:
        return list(self._runtime.algorithms)

    @property
    def available_kpis(self) -> list[str]:
        return list(self._runtime.kpis)

    @property
    def kpi_templates(self) -> dict[str, type[BaseKPI]]:
        return dict(self._runtime.kpis)

    def algorithm(self, name: str) -> type[BaseAlgorithm]:
        try:
            return self._runtime.algorithms[name]
        except KeyError:
            known = ", ".join(self._runtime.algorithms) or "none"
            raise NotFoundError(f"algorithm {name!r} not found (available: {known})") from None

    def import_scenario(
        self,
        tag: str,
        data: DataSource,
        algo_name: str,
        algo_params: Mapping[str, Any],
        data_params: Mapping[str, Any],
        *,
        seed: int | None,
        result: dict[str, Any] | None,
        kpis: Mapping[str, float | None],
        tables: DataSource | None,
    ) -> ScenarioRecord:
        """A finished run brought from elsewhere (a scenario archive): `data` is stored
        under its name as a new version, unless a version of that dataset has the same
        content digest already (then that one is pinned); the scenario is added
        complete, with `result`, `kpis` and `tables`, and never runs here."""
        key = check_name("dataset key", data.name, self._runtime.config.max_name_chars)
        # A taken tag is refused before the dataset is stored (the insert still tells
        # of one taken meanwhile).
        taken = {name_key(r.tag): r.tag for r in self.list_scenario_summaries()}
        if name_key(tag) in taken:
            raise tag_taken(tag, taken[name_key(tag)])
        digest = content_digest(data)
        exists = key in self.list_datasets()
        same = (
            [v.version for v in self.dataset_versions(key) if v.digest == digest] if exists else []
        )
        version = same[-1] if same else self.add_dataset(key, data, replace=exists).version
        record = self._new_record(tag, key, algo_name, algo_params, data_params, version, seed)
        record = record.copy(
            status=S.COMPLETE,
            progress=1.0,
            result=result,
            kpis=dict(kpis),
            finished_at=utcnow(),
        )
        self._store.add_scenario(record, below=self._runtime.config.max_scenarios_per_session)
        if tables is not None and tables.list_tables():
            self._store.put_result_tables(record.id, tables)
        self._runtime.lifecycle.created(record)
        return record

    def _new_record(
        self,
        tag: str,
        dataset_key: str,
        algo_name: str,
        algo_params: Mapping[str, Any] | None,
        data_params: Mapping[str, Any] | None,
        dataset_version: int | None,
        seed: int | None,
        batch: str | None = None,
        *,
        latest_seen: bool = False,
    ) -> ScenarioRecord:
        """A new scenario record (status created, with its lineage), checked, not stored.
        `latest_seen`: with no `dataset_version`, pinned to the latest version as the
        store last saw it (`Store.latest_version_seen`; stored with `latest=True`)."""
        tag = check_name("tag", tag, self._runtime.config.max_name_chars)
        if seed is not None and (isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT):
            raise InvalidInputError(f"seed must be an integer from 0 to {SEED_LIMIT - 1}")
        algorithm = self.algorithm(algo_name)
        dataset_key = nfc(dataset_key)
        # NotFoundError: no such dataset or version.
        if latest_seen and dataset_version is None:
            pinned = self._store.latest_version_seen(self.session_id, dataset_key)
        else:
            pinned = self.dataset_version(dataset_key, dataset_version)
        declared = self.data_parameter_set(dataset_key, pinned.version, found=pinned)
        parameters = algorithm.parameters()
        parameters.set_values(algo_params)
        values = parameters.to_json()
        data_values = _data_parameter_values(dataset_key, declared, data_params)
        if seed is None:
            seed = default_seed(pinned.digest, algo_name, values, data_values)
        record = ScenarioRecord(
            id=new_id(),
            session_id=self.session_id,
            tag=tag,
            dataset_key=dataset_key,
            algorithm=algo_name,
            parameters=values,
            data_parameters=data_values,
            dataset_version=pinned.version,
            dataset_digest=pinned.digest,
            seed=seed,
            batch=batch,
        )
        audit_subject(scenario_id=record.id)
        return record.copy(**run_lineage(record, algorithm, executor=None))

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        record = self._store.get_scenario(self.session_id, scenario_id)
        if record is None:
            raise NotFoundError(f"scenario {scenario_id!r} not found")
        return record

    def page_scenarios(
        self,
        fingerprint: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        *,
        summaries: bool = False,
    ) -> list[ScenarioRecord]:
        """`list_scenarios` (or with `summaries`, `list_scenario_summaries`: no
        results read), filtered by `fingerprint`, from `offset` on, `limit` at most."""
        if limit is None and offset == 0:
            if not summaries:
                return self.list_scenarios(fingerprint)
            records = self.list_scenario_summaries()
            if fingerprint is None:
                return records
            return [r for r in records if r.fingerprint == fingerprint]
        return self._store.page_scenarios(
            self.session_id, fingerprint, limit, offset, summaries=summaries
        )

    def page_scenario_versions(
        self, fingerprint: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[tuple[str, int]]:
        """The `(id, version)` of each scenario `page_scenarios` would list, in order."""
        return self._store.page_scenario_versions(self.session_id, fingerprint, limit, offset)

    def change_stamp(self) -> object | None:
        """The store's `change_stamp`: the same value means nothing changed since."""
        return self._store.change_stamp()

    def scenarios_by_id(
        self, ids: Sequence[str], *, summaries: bool = False
    ) -> dict[str, ScenarioRecord]:
        """The session's scenarios of `ids` by id (one gone meanwhile is left out);
        with `summaries`, no results read."""
        found = self._store.get_scenarios(self.session_id, ids, summaries=summaries)
        return {record.id: record for record in found}

    def list_scenario_summaries(self) -> list[ScenarioRecord]:
        """Like `list_scenarios`, without reading results (`result` may be None)."""
        return self._store.list_scenario_summaries(self.session_id)

    def data_parameter_set(
        self, key: str, version: int | None = None, *, found: DatasetVersion | None = None
    ) -> BaseParameterSet | None:
        """The parameter set the dataset declares (its class's `data_parameter_set()`),
        or None when it declares none. `NotFoundError` for an unknown dataset.
        `found`: the version's description, just read (`Store.get_dataset`)."""
        data = self._store.get_dataset(self.session_id, nfc(key), version, found=found)
        declare = getattr(data, "data_parameter_set", None)
        if declare is None:
            return None
        declared = declare()
        if not isinstance(declared, BaseParameterSet):
            raise TypeError(
                f"{type(data).__name__}.data_parameter_set() must return a BaseParameterSet"
            )
        return declared

    def get_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        """The scenario, or None (the reference's lookup, for code ported from it)."""
        return self._store.get_scenario(self.session_id, scenario_id)

    def result_tables(self, scenario_id: str) -> DataSource:
        """The tables of a complete scenario's result (empty when it has none);
        `ConflictError` while it is not complete."""
        record = self.get_scenario(scenario_id)
        if record.status is not S.COMPLETE:
            raise ConflictError(f"scenario {record.tag!r} is {record.status}, not complete")
        tables = self._store.get_result_tables(scenario_id)
        return tables if tables is not None else DataSource(f"result of {record.tag}")

    def stale_reason(self, record: ScenarioRecord) -> str | None:
        """Why `record` can no longer run as stored (its algorithm is gone, or its
        stored parameters no longer fit the algorithm's declaration), or None.

        Stored values are never changed or re-validated on read: a scenario created
        under an older configuration stays listed and readable, marked stale.
        """
        algorithm = self._runtime.algorithms.get(record.algorithm)
        if algorithm is None:
            return f"algorithm {record.algorithm!r} is no longer available"
        declared = {p.name: p for p in algorithm.parameters.parameter_definitions()}
        problems = [
            f"{name}: no longer a parameter of {record.algorithm!r}"
            for name in record.parameters
            if name not in declared
        ]
        for name, parameter in declared.items():
            try:
                if name in record.parameters:
                    parameter.parse(record.parameters[name])
                elif not parameter.has_default and parameter.required:
                    raise ParameterError(name, "is required and has no stored value")
            except ParameterError as exc:
                problems.append(str(exc))
        if problems:
            return "parameters no longer fit: " + "; ".join(problems)
        return None

    def list_scenarios(self, fingerprint: str | None = None) -> list[ScenarioRecord]:
        """Oldest first; only those with `fingerprint` when given."""
        records = self._store.list_scenarios(self.session_id)
        if fingerprint is not None:
            records = [r for r in records if r.fingerprint == fingerprint]
        return records

    # -- the pinned baseline ---------------------------------------------------
    def pin_baseline(self, scenario_id: str) -> ScenarioRecord:
        """Pin the scenario as the session's baseline (replacing another pin)."""
        record = self.get_scenario(scenario_id)
        self._store.set_baseline(self.session_id, record.id)
        self._runtime.changes.record(
            self.session_id,
            "baseline.pinned",
            record.id,
            {"baseline": {"scenario_id": record.id, "tag": record.tag}},
        )
        return record

    def unpin_baseline(self) -> None:
        """Unpin the session's baseline; no change is told when none was pinned."""
        pinned = self._store.get_baseline(self.session_id)
        self._store.set_baseline(self.session_id, None)
        if pinned is not None:
            self._runtime.changes.record(self.session_id, "baseline.unpinned", pinned, {})

    def baseline_id(self) -> str | None:
        """The pinned baseline's scenario id, or None."""
        return self._store.get_baseline(self.session_id)

    def get_scenario_and_baseline(self, scenario_id: str) -> tuple[ScenarioRecord, str | None]:
        """`get_scenario` and `baseline_id`, read together."""
        record, baseline = self._store.get_scenario_and_baseline(self.session_id, scenario_id)
        if record is None:
            raise NotFoundError(f"scenario {scenario_id!r} not found")
        return record, baseline

    def processing(self) -> ScenarioRecord | None:
        """The session's own scenario (not an experiment's) processing now, if any:
        at most one runs at a time; batch scenarios run beside it."""
        for record in self.list_scenarios():
            if record.status is S.PROCESSING and record.batch is None:
                return record
        return None


def _data_parameter_values(
    key: str, declared: BaseParameterSet | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """`values` checked against the parameters dataset `key` declares."""
    if declared is None:
        if values:
            name = next(iter(values))
            raise ParameterError(name, f"dataset {key!r} declares no data parameters; got {name!r}")
        return {}
    declared.set_values(values)
    return declared.to_json()
