"""`ScenarioManager`: one session's datasets and scenarios, as a view over the store."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.audit import audit_subject
from algomancy_core.decisions import baseline_pinned
from algomancy_core.engine import Engine
from algomancy_core.errors import ConflictError, InvalidInputError, NotFoundError
from algomancy_core.events import Notifier
from algomancy_core.kpi import BaseKPI
from algomancy_core.lineage import SEED_LIMIT, default_seed, run_lineage
from algomancy_core.names import check_name, name_key, nfc, tag_taken
from algomancy_core.parameters import BaseParameterSet, ParameterError
from algomancy_core.scenario import (
    CANCELLED,
    ScenarioRecord,
    ScenarioStatus,
    new_id,
    utcnow,
)
from algomancy_core.stores.base import DatasetDeletion, DatasetVersion, SessionRecord
from algomancy_data import DataClassification, DataSource, ETLResult, File
from algomancy_data.digest import content_digest

S = ScenarioStatus
log = logging.getLogger("algomancy.scenarios")


class ScenarioManager:
    """Datasets and scenarios of one session. Every rule about them lives here."""

    def __init__(self, engine: Engine, session: SessionRecord) -> None:
        self._engine = engine
        self._store = engine.store
        self.session = session

    @property
    def session_id(self) -> str:
        return self.session.id

    @property
    def display_name(self) -> str:
        return self.session.display_name

    @property
    def notifier(self) -> Notifier:
        """Where changes of this session's scenarios are announced."""
        return self._engine.notifier

    # -- discovery -----------------------------------------------------------
    @property
    def available_algorithms(self) -> list[str]:
        return list(self._engine.algorithms)

    @property
    def available_kpis(self) -> list[str]:
        return list(self._engine.kpis)

    @property
    def kpi_templates(self) -> dict[str, type[BaseKPI]]:
        return dict(self._engine.kpis)

    def algorithm(self, name: str) -> type[BaseAlgorithm]:
        try:
            return self._engine.algorithms[name]
        except KeyError:
            known = ", ".join(self._engine.algorithms) or "none"
            raise NotFoundError(f"algorithm {name!r} not found (available: {known})") from None

    # -- datasets ------------------------------------------------------------
    def list_datasets(self) -> list[str]:
        return self._store.list_datasets(self.session_id)

    def get_data_keys(self) -> list[str]:
        """`list_datasets` under the reference's name, for code ported from it."""
        return self.list_datasets()

    def get_dataset(self, key: str, version: int | None = None) -> DataSource:
        """The dataset's `version` (default: its latest)."""
        return self._store.get_dataset(self.session_id, nfc(key), version)

    def dataset_version(self, key: str, version: int | None = None) -> DatasetVersion:
        return self._store.dataset_version(self.session_id, nfc(key), version)

    def dataset_versions(self, key: str) -> list[DatasetVersion]:
        """Every version kept, newest first, with the scenarios pinned to each."""
        return self._store.list_dataset_versions(self.session_id, nfc(key))

    def add_dataset(
        self,
        key: str,
        data: DataSource,
        *,
        replace: bool = False,
        creator: str | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> DatasetVersion:
        """Store `data` under `key`: its first version, or with `replace` a new
        version (content identical to the latest adds none). Existing versions, and
        the scenarios pinned to them, never change."""
        key = check_name("dataset key", key, self._engine.config.max_name_chars)
        existed = key in self.list_datasets()
        before = self._store.dataset_version(self.session_id, key).version if existed else None
        version = self._store.put_dataset(
            self.session_id,
            key,
            data,
            replace=replace,
            creator=creator,
            messages=messages,
            keep=self._engine.config.dataset_versions_kept,
        )
        if version.version != before:  # identical content adds no version: no change
            kind = "dataset.replaced" if existed else "dataset.added"
            described = {"key": key, "version": version.version, "digest": version.digest}
            self._engine.changes.record(self.session_id, kind, key, {"dataset": described})
        if not existed:
            self._autocreate(key)
        return version

    def add_dataset_from_json(
        self, payload: str | bytes, *, new_version: bool = False, creator: str | None = None
    ) -> str:
        """Add the dataset serialised by `DataSource.to_json()`; returns its key."""
        if not payload.strip():
            raise InvalidInputError(
                "the request body is empty; send a DataSource.to_json() payload"
            )
        try:
            data = self._engine.config.data_object_type.from_json(payload)
        except ValueError as exc:
            raise InvalidInputError(f"not a valid dataset payload: {exc}") from None
        if not data.name or not data.name.strip():
            raise InvalidInputError("the dataset payload has no name; set its 'name'")
        data.name = check_name("name", data.name, self._engine.config.max_name_chars)
        self.add_dataset(data.name, data, replace=new_version, creator=creator)
        return data.name

    def etl_data(
        self,
        files: Mapping[str, File] | list[File],
        dataset_name: str,
        *,
        creator: str | None = None,
    ) -> ETLResult:
        """Run the ETL over `files`; on success store the dataset as `dataset_name`,
        as a new version when the name exists. A failed ETL stores nothing."""
        return self.etl_version(files, dataset_name, creator=creator)[0]

    def etl_version(
        self,
        files: Mapping[str, File] | list[File],
        dataset_name: str,
        *,
        creator: str | None = None,
    ) -> tuple[ETLResult, DatasetVersion | None]:
        """`etl_data`, with the version it stored (None when the ETL failed): the
        one this upload made, whatever others stored meanwhile."""
        dataset_name = check_name("dataset_name", dataset_name, self._engine.config.max_name_chars)
        result = self._engine.etl_factory().run(files, dataset_name)
        stored = None
        if result.is_success and result.data_source is not None:
            result.data_source.name = dataset_name
            stored = self.add_dataset(
                dataset_name,
                result.data_source,
                replace=True,
                creator=creator,
                messages=[m.to_dict() for m in result.messages],
            )
        else:
            errors = [m for m in result.messages if str(m.severity) in ("error", "critical")]
            log.warning(
                "ETL of dataset %r in session %r failed with %d error(s)%s",
                dataset_name,
                self.display_name,
                len(errors),
                f"; first: {errors[0].message}" if errors else "",
                extra={"event": "etl-failed", "dataset": dataset_name},
            )
        return result, stored

    def derive_dataset(
        self,
        source_key: str,
        new_key: str,
        *,
        version: int | None = None,
        new_version: bool = False,
        creator: str | None = None,
    ) -> DataSource:
        """A copy of `source_key` (its `version`, default the latest) as `new_key`;
        `ConflictError` if `new_key` exists, unless `new_version` asks for a new
        version of it."""
        new_key = check_name("new_key", new_key, self._engine.config.max_name_chars)
        source = self.get_dataset(source_key, version)
        if new_key in self.list_datasets() and not new_version:
            raise ConflictError(
                f"dataset {new_key!r} already exists; ask for a new version of it "
                "with new_version=true"
            )
        derived = source.derive(new_key)
        self.add_dataset(new_key, derived, replace=new_version, creator=creator)
        return derived

    def save_as_master(self, source_key: str, new_key: str) -> DataSource:
        """A copy of `source_key` (typically a derived dataset) stored as `new_key`,
        classified as master data."""
        new_key = check_name("new_key", new_key, self._engine.config.max_name_chars)
        source = self.get_dataset(source_key)
        if new_key in self.list_datasets():
            raise ConflictError(f"dataset {new_key!r} already exists")
        master = source.derive(new_key)
        master.classification = DataClassification.MASTER_DATA
        self.add_dataset(new_key, master)
        return master

    def delete_dataset(self, key: str) -> DatasetDeletion:
        """Delete the versions no scenario uses; `ConflictError` when every version
        is in use (nothing deleted). The answer names the versions that remain."""
        key = nfc(key)
        deletion = self._store.delete_dataset(self.session_id, key)
        if deletion.remaining:
            # Versions in use remain: the key stays, with fewer versions.
            described = {"key": key, "deleted": deletion.deleted, "remaining": deletion.remaining}
            self._engine.changes.record(
                self.session_id, "dataset.replaced", key, {"dataset": described}
            )
        else:
            self._engine.changes.record(
                self.session_id, "dataset.deleted", key, {"dataset": {"key": key}}
            )
        return deletion

    def _autocreate(self, key: str) -> None:
        config = self._engine.config
        if not config.autocreate:
            return
        if config.default_algo is not None:
            wanted = {config.default_algo: config.default_algo_params_values}
        else:
            wanted = dict.fromkeys(self._engine.algorithms)
        for name, values in wanted.items():
            # A scenario with that tag may exist already: then it stays as it is.
            with contextlib.suppress(ConflictError):
                self.create_scenario(f"{name} on {key}", key, name, values)

    # -- scenarios -----------------------------------------------------------
    def create_scenario(
        self,
        tag: str,
        dataset_key: str,
        algo_name: str,
        algo_params: Mapping[str, Any] | None = None,
        data_params: Mapping[str, Any] | None = None,
        *,
        dataset_version: int | None = None,
        seed: int | None = None,
    ) -> ScenarioRecord:
        """`data_params` are checked against the parameters the dataset declares
        (`data_parameter_set`); `ParameterError` names a bad or undeclared one. The
        scenario is pinned to `dataset_version` (default: the latest version)."""
        record = self._new_record(
            tag, dataset_key, algo_name, algo_params, data_params, dataset_version, seed
        )
        self._store.add_scenario(record)
        self._engine.lifecycle.created(record)
        if self._engine.config.autorun:
            return self.run_scenario(record.id)
        return record

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
        key = check_name("dataset key", data.name, self._engine.config.max_name_chars)
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
        self._store.add_scenario(record)
        if tables is not None and tables.list_tables():
            self._store.put_result_tables(record.id, tables)
        self._engine.lifecycle.created(record)
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
    ) -> ScenarioRecord:
        """A new scenario record (status created, with its lineage), checked, not stored."""
        tag = check_name("tag", tag, self._engine.config.max_name_chars)
        limit = self._engine.config.max_scenarios_per_session
        if self._store.count_scenarios(self.session_id) >= limit:
            raise ConflictError(
                f"the scenario limit is reached: a session may hold {limit} scenarios "
                "(max_scenarios_per_session); delete one first"
            )
        if seed is not None and (isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT):
            raise InvalidInputError(f"seed must be an integer from 0 to {SEED_LIMIT - 1}")
        algorithm = self.algorithm(algo_name)
        dataset_key = nfc(dataset_key)
        # NotFoundError: no such dataset or version.
        pinned = self.dataset_version(dataset_key, dataset_version)
        declared = self.data_parameter_set(dataset_key, pinned.version)
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
        )
        audit_subject(scenario_id=record.id)
        return record.copy(**run_lineage(record, algorithm, executor=None))

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        record = self._store.get_scenario(self.session_id, scenario_id)
        if record is None:
            raise NotFoundError(f"scenario {scenario_id!r} not found")
        return record

    def list_scenario_summaries(self) -> list[ScenarioRecord]:
        """Like `list_scenarios`, without reading results (`result` may be None)."""
        return self._store.list_scenario_summaries(self.session_id)

    def data_parameter_set(self, key: str, version: int | None = None) -> BaseParameterSet | None:
        """The parameter set the dataset declares (its class's `data_parameter_set()`),
        or None when it declares none. `NotFoundError` for an unknown dataset."""
        data = self.get_dataset(key, version)
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
        algorithm = self._engine.algorithms.get(record.algorithm)
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
        return record

    def unpin_baseline(self) -> None:
        self._store.set_baseline(self.session_id, None)

    def baseline_id(self) -> str | None:
        """The pinned baseline's scenario id, or None."""
        return self._store.get_baseline(self.session_id)

    def processing(self) -> ScenarioRecord | None:
        """The scenario of this session that is processing now, if any."""
        for record in self.list_scenarios():
            if record.status is S.PROCESSING:
                return record
        return None

    def run_scenario(self, scenario_id: str) -> ScenarioRecord:
        """Enqueue; from `complete` or `failed` this re-runs (result and KPIs cleared)."""
        record = self.get_scenario(scenario_id)
        if record.status.is_active:
            raise ConflictError(f"scenario {record.tag!r} is already {record.status}")
        stale = self.stale_reason(record)
        if stale is not None:
            raise ConflictError(f"scenario {record.tag!r} cannot run: {stale}")
        pin: dict[str, Any] = {}
        if record.dataset_version is None:
            # Of unknown lineage (from before versions): from now on it runs on, and
            # is pinned to, the latest version.
            latest = self.dataset_version(record.dataset_key)
            pin = {"dataset_version": latest.version, "dataset_digest": latest.digest}
        # Stored with the run: whichever process claims it continues the request's trace.
        pin["trace_context"] = self._engine.observers.queue_context()
        # From the state just read (a first run drops no result tables); should it
        # have changed meanwhile, from any state a run may start from.
        lifecycle = self._engine.lifecycle
        queued = lifecycle.move(
            scenario_id, S.QUEUED, source=record.status, **pin
        ) or lifecycle.move(
            scenario_id, S.QUEUED, source=frozenset({S.CREATED, S.COMPLETE, S.FAILED}), **pin
        )
        if queued is None:
            current = self.get_scenario(scenario_id)
            raise ConflictError(f"scenario {current.tag!r} is already {current.status}")
        return queued

    def reset_scenario(self, scenario_id: str) -> ScenarioRecord:
        """Back to `created` with result, KPI values, progress and error cleared; a
        `created` scenario stays as it is. `ConflictError` while queued or processing."""
        record = self.get_scenario(scenario_id)
        if record.status is S.CREATED:
            return record
        if not record.status.is_active:
            reset = self._engine.lifecycle.move(
                scenario_id, S.CREATED, source=frozenset({S.COMPLETE, S.FAILED})
            )
            if reset is not None:
                return reset
            record = self.get_scenario(scenario_id)
            if record.status is S.CREATED:
                return record
        raise ConflictError(
            f"scenario {record.tag!r} is {record.status}; cancel it or wait for it to "
            "finish before resetting it"
        )

    def cancel_scenario(self, scenario_id: str) -> ScenarioRecord:
        """A queued scenario fails at once; a processing one is asked to stop."""
        record = self.get_scenario(scenario_id)
        if record.status is S.QUEUED:
            failed = self._engine.lifecycle.move(
                scenario_id, S.FAILED, source=S.QUEUED, error=CANCELLED
            )
            if failed is not None:
                return failed
            record = self.get_scenario(scenario_id)
        if record.status is S.PROCESSING:
            if self._engine.lifecycle.request_cancel(scenario_id):
                self._engine.dispatcher.cancel(scenario_id)
                return self.get_scenario(scenario_id)
            # It ended before the cancel was recorded: too late to cancel.
            record = self.get_scenario(scenario_id)
        raise ConflictError(
            f"scenario {record.tag!r} is {record.status}; only queued or processing "
            "scenarios can be cancelled"
        )

    def delete_scenario(self, scenario_id: str) -> None:
        """Remove a scenario; a queued or running one is cancelled first. The
        pinned baseline is refused (`ConflictError` naming it)."""
        record = self.get_scenario(scenario_id)
        if self._store.get_baseline(self.session_id) == record.id:
            raise baseline_pinned(record.tag, record.id)
        if record.status.is_active:
            # It may have finished meanwhile; then there is nothing to cancel.
            with contextlib.suppress(ConflictError):
                self.cancel_scenario(scenario_id)
        self._store.delete_scenario(self.session_id, scenario_id)
        self._engine.lifecycle.deleted(record)

    def wait(self, scenario_id: str, timeout: float = 30.0) -> ScenarioRecord:
        """Block until the scenario is complete or failed; `TimeoutError` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get_scenario(scenario_id)
            if record.status.is_terminal:
                return record
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"scenario {record.tag!r} is still {record.status}")
            # Read again once this process saw it end, or after a short while (a run
            # in another process is not published here).
            self._engine.notifier.wait_for_end(scenario_id, record.version, min(remaining, 0.1))


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
