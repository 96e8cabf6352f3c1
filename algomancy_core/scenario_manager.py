"""`ScenarioManager`: one session's datasets and scenarios, as a view over the store.

The class is built in layers, one module each: `SessionDatasets` (datasets),
`ScenarioCatalog` (scenario records) and, here, what moves a scenario."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from algomancy_core.decisions import baseline_pinned
from algomancy_core.errors import (
    ConflictError,
    InvalidTransitionError,
)
from algomancy_core.scenario import (
    CANCELLED,
    TERMINAL,
    ScenarioRecord,
    ScenarioStatus,
    leads_to,
    stop_fields,
)
from algomancy_core.scenario_catalog import ScenarioCatalog
from algomancy_core.scenario_catalog import _data_parameter_values as _data_parameter_values
from algomancy_core.stores.base import LatestMoved

S = ScenarioStatus
#: Creates of one scenario while other processes keep adding versions of its dataset.
_ATTEMPTS = 5


class ScenarioManager(ScenarioCatalog):
    """Datasets and scenarios of one session. Every rule about them lives here:
    datasets in `SessionDatasets`, records in `ScenarioCatalog`, and in this class
    what creates, runs, resets, cancels and deletes a scenario."""

    def _autocreate(self, key: str) -> None:
        config = self._runtime.config
        if not config.autocreate:
            return
        if config.default_algo is not None:
            wanted = {config.default_algo: config.default_algo_params_values}
        else:
            wanted = dict.fromkeys(self._runtime.algorithms)
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
        batch: str | None = None,
    ) -> ScenarioRecord:
        """`data_params` are checked against the parameters the dataset declares
        (`data_parameter_set`); `ParameterError` names a bad or undeclared one. The
        scenario is pinned to `dataset_version` (default: the latest version). A
        `batch` scenario (an experiment's, `"experiment:<id>"`) runs in parallel with
        others of its session; the session's own run one at a time."""
        limit = self._runtime.config.max_scenarios_per_session
        latest = dataset_version is None
        for attempt in range(_ATTEMPTS):
            # Without a version: the latest as the store last saw it (no read), then,
            # should another process have added one since, the latest read again.
            record = self._new_record(
                tag,
                dataset_key,
                algo_name,
                algo_params,
                data_params,
                dataset_version,
                seed,
                batch,
                latest_seen=latest and attempt == 0,
            )
            try:
                # The session's limit, and that the version is still the latest, are
                # checked in the same write: no read of their own.
                self._store.add_scenario(record, below=limit, latest=latest)
                break
            except LatestMoved:
                continue
        else:
            raise ConflictError(
                f"dataset {dataset_key!r} got new versions while the scenario was created; "
                "try again"
            )
        self._runtime.lifecycle.created(record)
        if self._runtime.config.autorun:
            return self.run_scenario(record.id)
        return record

    def run_scenario(self, scenario_id: str) -> ScenarioRecord:
        """Enqueue; from `complete` or `failed` this re-runs (result and KPIs cleared)."""
        return self._run(self.get_scenario(scenario_id))

    def run_scenario_and_baseline(self, scenario_id: str) -> tuple[ScenarioRecord, str | None]:
        """`run_scenario`, and the session's pinned baseline as read with the
        scenario before the run was requested (one read for an answer that shows
        both, `POST …/run`)."""
        record, baseline = self.get_scenario_and_baseline(scenario_id)
        return self._run(record), baseline

    def _run(self, record: ScenarioRecord) -> ScenarioRecord:
        scenario_id = record.id
        if not leads_to(record.status, S.QUEUED):
            raise InvalidTransitionError(f"scenario {record.tag!r} is already {record.status}")
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
        pin["trace_context"] = self._runtime.observers.queue_context()
        # From the state just read (a first run drops no result tables); should it
        # have changed meanwhile, from any state a run may start from.
        lifecycle = self._runtime.lifecycle
        queued = lifecycle.move(
            scenario_id, S.QUEUED, source=record.status, **pin
        ) or lifecycle.move(scenario_id, S.QUEUED, source=TERMINAL | {S.CREATED}, **pin)
        if queued is None:
            current = self.get_scenario(scenario_id)
            raise InvalidTransitionError(f"scenario {current.tag!r} is already {current.status}")
        return queued

    def reset_scenario(self, scenario_id: str) -> ScenarioRecord:
        """Back to `created` with result, KPI values, progress and error cleared; a
        `created` scenario stays as it is. `ConflictError` while queued or processing."""
        record = self.get_scenario(scenario_id)
        if record.status is S.CREATED:
            return record
        if leads_to(record.status, S.CREATED):
            reset = self._runtime.lifecycle.move(scenario_id, S.CREATED, source=TERMINAL)
            if reset is not None:
                return reset
            record = self.get_scenario(scenario_id)
            if record.status is S.CREATED:
                return record
        raise InvalidTransitionError(
            f"scenario {record.tag!r} is {record.status}; cancel it or wait for it to "
            "finish before resetting it"
        )

    def reports(self, scenario_id: str) -> list[tuple[int, float]]:
        """The `(step, value)` intermediate values of the scenario's latest run, in
        the order reported (`RunContext.report`; at most `reports.REPORTS_KEPT`)."""
        self.get_scenario(scenario_id)  # NotFoundError for another session's
        return self._store.get_reports(scenario_id)

    def cancel_scenario(self, scenario_id: str) -> ScenarioRecord:
        """A queued scenario fails at once; a processing one is asked to stop."""
        record = self.get_scenario(scenario_id)
        if record.status is S.QUEUED:
            failed = self._runtime.lifecycle.move(
                scenario_id, S.FAILED, source=S.QUEUED, error=CANCELLED
            )
            if failed is not None:
                return failed
            record = self.get_scenario(scenario_id)
        if record.status is S.PROCESSING:
            if self._runtime.lifecycle.request_cancel(scenario_id):
                self._runtime.dispatcher.cancel(scenario_id)
                return self.get_scenario(scenario_id)
            # It ended before the cancel was recorded: too late to cancel.
            record = self.get_scenario(scenario_id)
        raise InvalidTransitionError(
            f"scenario {record.tag!r} is {record.status}; only queued or processing "
            "scenarios can be cancelled"
        )

    def request_prune(self, scenario_id: str, step: int) -> ScenarioRecord:
        """Stop a processing scenario whose run is not promising at `step` (an
        optimisation study's pruner said so), through the cooperative cancel: it
        fails as cancelled, marked `pruned`, its `error` and last `progress_message`
        `pruned at step {step}`. `InvalidTransitionError` when it is not processing
        (it ended first, or never started)."""
        record = self.get_scenario(scenario_id)
        lifecycle = self._runtime.lifecycle
        if record.status is S.PROCESSING and lifecycle.request_prune(scenario_id, step):
            flagged = self.get_scenario(scenario_id)
            stop = stop_fields(flagged)
            self._runtime.dispatcher.cancel(scenario_id, stop.pop("error"), **stop)
            return flagged
        record = self.get_scenario(scenario_id)
        raise InvalidTransitionError(
            f"scenario {record.tag!r} is {record.status}; only a processing scenario can be pruned"
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
        self._runtime.lifecycle.deleted(record)

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
            self._runtime.notifier.wait_for_end(scenario_id, record.version, min(remaining, 0.1))
