"""Outcome recording: how a run ended, written to the store (and logged)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from algomancy_core.dispatcher.runs import Run, RunsHeld
from algomancy_core.executors.base import RunOutcome
from algomancy_core.kpi import KpiError, kpi_values
from algomancy_core.lifecycle import Completion
from algomancy_core.scenario import (
    CANCELLED,
    ScenarioRecord,
    ScenarioStatus,
    plan_transition,
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

    def _record_outcomes(self, ends: list[tuple[Run, RunOutcome]]) -> list[ScenarioRecord | None]:
        """Write how the runs ended, the completions in one write and the failures in
        another; each scenario as written (None if it was deleted or cancelled
        meanwhile)."""
        settled = [self._settlement(run, outcome) for run, outcome in ends]
        written: list[ScenarioRecord | None] = [None] * len(ends)
        done = [(n, end) for n, end in enumerate(settled) if isinstance(end, Completion)]
        if done:
            completed = self.lifecycle.complete_many([end for _, end in done])
            for (n, end), record in zip(done, completed, strict=True):
                written[n] = record
                if record is None:
                    log.info(
                        "scenario %s finished but was cancelled or deleted meanwhile",
                        end.scenario_id,
                    )
        failed = [(n, end) for n, end in enumerate(settled) if not isinstance(end, Completion)]
        if failed:
            moves = [
                (ends[n][0].record.id, plan_transition(S.FAILED, source=S.PROCESSING, **fields))
                for n, fields in failed
            ]
            for (n, _), record in zip(failed, self.lifecycle.apply(moves), strict=True):
                written[n] = record
        return written

    def _settlement(self, run: Run, outcome: RunOutcome) -> Completion | dict[str, Any]:
        """How the run ends: its completion, or the fields of its failure."""
        scenario_id = run.record.id
        if run.stop_reason is not None or outcome.cancelled:
            reason = run.stop_reason or CANCELLED
            return run.lineage | run.stop_fields | {"error": reason}
        if outcome.error is not None:
            if outcome.traceback:
                log.error("scenario %s failed:\n%s", scenario_id, outcome.traceback)
            return run.lineage | {"error": outcome.error}
        assert outcome.result is not None
        try:
            kpis = kpi_values(self.kpis, outcome.result)
            payload = outcome.result.to_dict()
            # Results must survive a round trip through JSON (and the SQL stores).
            payload = orjson.loads(
                orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            )
        except KpiError as exc:
            return run.lineage | {"error": str(exc)}
        except (TypeError, orjson.JSONEncodeError) as exc:
            return run.lineage | {"error": f"the result cannot be serialised to JSON: {exc}"}
        tables = outcome.result.tables()
        source = DataSource(f"result of {scenario_id}", tables=tables) if tables else None
        return Completion(scenario_id, payload, kpis, source, run.lineage)

    def _fail(
        self, scenario_id: str, error: str, lineage: dict[str, Any] | None = None
    ) -> ScenarioRecord | None:
        return self.lifecycle.move(
            scenario_id, S.FAILED, source=S.PROCESSING, error=error, **(lineage or {})
        )
