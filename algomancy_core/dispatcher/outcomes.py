"""Outcome recording: how a run ended, written to the store (and logged)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from algomancy_core.dispatcher.runs import Run, RunsHeld
from algomancy_core.executors.base import RunOutcome
from algomancy_core.kpi import KpiError, kpi_values
from algomancy_core.scenario import (
    CANCELLED,
    ScenarioRecord,
    ScenarioStatus,
)
from algomancy_data import DataSource

log = logging.getLogger("algomancy.dispatcher")

S = ScenarioStatus


class OutcomeRecorder(RunsHeld):
    """Writes the end of a run: complete with its result and KPIs, or failed."""

    @staticmethod
    def _log_end(run: Run, record: ScenarioRecord | None) -> None:
        seconds = time.monotonic() - run.started_at
        extra = {"scenario_id": run.record.id, "event": "run-ended", "seconds": round(seconds, 3)}
        if record is None:
            log.log(
                logging.INFO if run.record.batch is None else logging.DEBUG,
                "scenario %s (%r): run ended after %.2f s; cancelled or deleted meanwhile",
                run.record.id,
                run.record.tag,
                seconds,
                extra=extra,
            )
        elif record.status is S.COMPLETE:
            log.log(  # an experiment's point at DEBUG: see `Dispatcher._start`
                logging.INFO if record.batch is None else logging.DEBUG,
                "scenario %s (%r): run complete in %.2f s",
                record.id,
                record.tag,
                seconds,
                extra=extra | {"status": "complete"},
            )
        else:
            log.warning(
                "scenario %s (%r): run failed after %.2f s: %s",
                record.id,
                record.tag,
                seconds,
                record.error,
                extra=extra | {"status": record.status.value},
            )

    def _record_outcome(self, run: Run, outcome: RunOutcome) -> ScenarioRecord | None:
        """Write how the run ended; the scenario as written (None if it was deleted
        or cancelled meanwhile)."""
        scenario_id = run.record.id
        if run.stop_reason is not None or outcome.cancelled:
            reason = run.stop_reason or CANCELLED
            return self._fail(scenario_id, reason, run.lineage | run.stop_fields)
        if outcome.error is not None:
            if outcome.traceback:
                log.error("scenario %s failed:\n%s", scenario_id, outcome.traceback)
            return self._fail(scenario_id, outcome.error, run.lineage)
        assert outcome.result is not None
        try:
            kpis = kpi_values(self.kpis, outcome.result)
            payload = outcome.result.to_dict()
            # Results must survive a round trip through JSON (and the SQL stores).
            payload = orjson.loads(
                orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            )
        except KpiError as exc:
            return self._fail(scenario_id, str(exc), run.lineage)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return self._fail(
                scenario_id, f"the result cannot be serialised to JSON: {exc}", run.lineage
            )
        tables = outcome.result.tables()
        done = self.lifecycle.complete(
            scenario_id,
            payload,
            kpis,
            DataSource(f"result of {scenario_id}", tables=tables) if tables else None,
            **run.lineage,
        )
        if done is None:
            log.info("scenario %s finished but was cancelled or deleted meanwhile", scenario_id)
        return done

    def _fail(
        self, scenario_id: str, error: str, lineage: dict[str, Any] | None = None
    ) -> ScenarioRecord | None:
        return self.lifecycle.move(
            scenario_id, S.FAILED, source=S.PROCESSING, error=error, **(lineage or {})
        )
