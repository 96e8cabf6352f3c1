"""One step of a study's driver, run while it holds the study's lease: tell the
trials whose runs ended, keep `parallel` trials in flight while budget remains, and
end the study when it is spent (trials or time) or stopped.

Everything is read back from the tables at each step, so a driver that takes over
from a dead one goes on where it stopped: trials whose scenario is still queued or
processing are waited for, not asked again; a trial recorded without its scenario (the
driver died in between) gets the scenario of its tag, or one made now.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from algomancy_core.errors import ConflictError, CoreError, NotFoundError
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.studies import search
from algomancy_core.studies.book import (
    ASKED,
    COMPLETE,
    POINT,
    STOPPED,
    T_COMPLETE,
    T_FAILED,
    T_PRUNED,
    T_RUNNING,
    WARM,
    StudyBook,
    StudyRecord,
    TrialRecord,
    same_run_note,
)
from algomancy_core.studies.space import evaluate
from algomancy_core.studies.trials import _create_trial_scenario, by_tag

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

log = logging.getLogger("algomancy.studies")
S = ScenarioStatus
#: At most this many asks per step beyond `parallel` (reused points end at once), so
#: that the driver renews its lease between steps.
ASKS_PER_STEP = 20


class LeaseLost(Exception):
    """Another driver holds the study now: this one stops driving it."""


def told(trial: TrialRecord, run: ScenarioRecord | None, spec: dict[str, object]) -> TrialRecord:
    """`trial` after its run: complete with its values, failed, or as it was."""
    if run is None:
        return dataclasses.replace(trial, state=T_FAILED, note="its scenario was deleted")
    if run.status is S.FAILED and run.pruned:
        return dataclasses.replace(trial, state=T_PRUNED, note=run.error or "pruned")
    if run.status is S.FAILED:
        return dataclasses.replace(trial, state=T_FAILED, note=run.error or "failed")
    if run.status is not S.COMPLETE:
        return trial
    found = evaluate(spec, run.kpis)
    if found is None:
        return dataclasses.replace(
            trial, state=T_FAILED, note="an objective or constraint KPI has no value"
        )
    values, constraints = found
    return dataclasses.replace(trial, state=T_COMPLETE, values=values, constraints=constraints)


class Step:
    def __init__(
        self, manager: ScenarioManager, book: StudyBook, record: StudyRecord, owner: str
    ) -> None:
        self.manager, self.book, self.record, self.owner = manager, book, record, owner
        self.spec = record.spec
        self.trials = book.trials(record.id)

    def _update(self, trial: TrialRecord) -> TrialRecord:
        self.book.update_trial(trial)
        self.trials = [trial if t.number == trial.number else t for t in self.trials]
        return trial

    @property
    def pruning(self) -> bool:
        return (self.spec.get("pruner") or "none") != "none"

    def _new_reports(self, trial: TrialRecord) -> list[tuple[int, float]]:
        """The intermediate values of `trial`'s run past those in its `intermediate`."""
        assert trial.scenario_id is not None
        last = trial.intermediate[-1][0] if trial.intermediate else -1
        return [(s, v) for s, v in self.manager._store.get_reports(trial.scenario_id) if s > last]

    def _told(self, trial: TrialRecord, run: ScenarioRecord | None) -> TrialRecord:
        after = told(trial, run, self.spec)
        if after is not trial and self.pruning and after.state in (T_COMPLETE, T_PRUNED):
            # A finished trial's values stay for the pruner to compare with.
            seen = [[s, v] for s, v in self._new_reports(trial)]
            after = dataclasses.replace(after, intermediate=[*trial.intermediate, *seen])
        return after

    def judge(self, new: dict[int, list[tuple[int, float]]]) -> None:
        """Tell the pruner the running trials' new intermediate values; stop the runs
        it prunes (their trials are told `pruned` once their runs end)."""
        verdicts = search.to_prune(self.spec, self.trials, new)
        for trial in [t for t in self.trials if t.number in new]:
            seen = [[s, v] for s, v in new[trial.number]]
            self._update(dataclasses.replace(trial, intermediate=[*trial.intermediate, *seen]))
            if trial.number in verdicts and trial.scenario_id is not None:
                # It may have ended meanwhile: then it is told as it ended.
                with contextlib.suppress(ConflictError, NotFoundError):
                    self.manager.request_prune(trial.scenario_id, verdicts[trial.number])

    def settle(self) -> None:
        """Tell the trials whose runs ended; on stop, cancel those in flight; with a
        pruner, judge the running ones by their new intermediate values."""
        new: dict[int, list[tuple[int, float]]] = {}
        for trial in [t for t in self.trials if t.state == T_RUNNING]:
            if trial.scenario_id is None:
                self._start(trial)
                continue
            # Only the trials in flight are read (at most `parallel`), not the session.
            run = self.manager._store.get_scenario(self.manager.session_id, trial.scenario_id)
            after = self._told(trial, run)
            if after is not trial:
                self._update(after)
                continue
            if (
                self.pruning
                and not self.record.stop_requested
                and run is not None
                and run.status is S.PROCESSING
                and not run.cancel_requested
            ):
                reports = self._new_reports(trial)
                if reports:
                    new[trial.number] = reports
            if self.record.stop_requested and run is not None and run.status.is_active:
                with contextlib.suppress(ConflictError, NotFoundError):
                    self.manager.cancel_scenario(run.id)
            elif run is not None and run.status is S.CREATED:
                # Made but never queued (a driver that died in between): queue it.
                with contextlib.suppress(ConflictError, NotFoundError):
                    self.manager.run_scenario(run.id)
        if new:
            self.judge(new)

    def _start(self, trial: TrialRecord) -> None:
        """Give `trial` its scenario (made now, or the one of its tag, or a complete
        one with its fingerprint) and tell it at once when that one is complete."""
        try:
            scenario_id, reused = self._scenario_of(trial)
        except (CoreError, ValueError) as exc:
            # The session refuses the scenario (its scenario limit, a tag taken since):
            # the next ones would be refused too, so the study stops, the reason on
            # this trial, rather than burn its budget on failed trials.
            self._update(dataclasses.replace(trial, state=T_FAILED, note=str(exc)))
            self.book.request_stop(self.record.session_id, self.record.id)
            self.record = dataclasses.replace(self.record, stop_requested=True)
            return
        stored: str | None = scenario_id
        note = None
        same = [t.number for t in self.trials if t.scenario_id == scenario_id]
        if reused and same:  # a scenario is one trial's: this one is told from it
            stored, note = None, same_run_note(same[0])
        run = self.manager.get_scenario(scenario_id)
        trial = self._update(dataclasses.replace(trial, scenario_id=stored, note=note))
        if reused:
            after = told(trial, run, self.spec)
            if after is not trial:
                self._update(after)

    def _scenario_of(self, trial: TrialRecord) -> tuple[str, bool]:
        """The scenario tagged with `trial`'s number, or one made (or reused) now;
        whether it was reused. When the tag turns out taken as it is made, a driver
        whose lease ran out mid-step made it meanwhile: that one is the trial's."""
        tag = f"{self.record.name}-{trial.number}"
        found = by_tag(self.manager, tag)
        if found is not None:
            return found.id, False
        try:
            return _create_trial_scenario(self.manager, self.record, trial.number, trial.params)
        except ConflictError:
            found = by_tag(self.manager, tag)
            if found is None:
                raise
            return found.id, False

    def ask(self) -> None:
        """Ask one point of the sampler (or the next listed point) and start it."""
        points = list(self.spec.get("points") or [])
        used = sum(1 for t in self.trials if t.source == POINT)
        point = points[used] if used < len(points) else None
        params, attrs, state = search.ask(self.spec, self.trials, self.record.sampler_state, point)
        number = max((t.number for t in self.trials), default=-1) + 1
        trial = TrialRecord(
            self.record.id,
            number,
            T_RUNNING,
            POINT if point is not None else ASKED,
            params,
            system_attrs=attrs,
        )
        self.book.add_trial(trial)  # ConflictError: another driver took the number
        self.trials.append(trial)
        self.record = dataclasses.replace(self.record, sampler_state=state)
        if not self.book.save(self.record, self.owner):
            raise LeaseLost(self.record.id)
        self._start(trial)

    def run(self, now: datetime) -> StudyRecord:
        """Settle, ask what the budget and `parallel` allow, end when done."""
        self.settle()
        spec = self.spec
        n_trials, timeout = spec.get("n_trials") or spec.get("max_trials"), spec.get("timeout_s")
        parallel = int(spec.get("parallel") or 1)
        for _ in range(parallel + ASKS_PER_STEP):
            budgeted = [t for t in self.trials if t.source != WARM]
            in_flight = sum(1 for t in budgeted if t.state == T_RUNNING)
            elapsed = (now - self.record.created_at).total_seconds()
            out_of_time = timeout is not None and elapsed >= timeout
            out_of_trials = n_trials is not None and len(budgeted) >= n_trials
            if self.record.stop_requested or out_of_time or out_of_trials:
                if in_flight:
                    return self.record
                if self.record.stop_requested:
                    return self._end("stop")
                return self._end("trials" if out_of_trials else "time")
            if in_flight >= parallel:
                return self.record
            self.ask()
        return self.record

    def _end(self, ended_by: str) -> StudyRecord:
        state = STOPPED if ended_by == "stop" else COMPLETE
        self.record = dataclasses.replace(self.record, state=state, ended_by=ended_by)
        if not self.book.save(self.record, self.owner):
            raise LeaseLost(self.record.id)
        self.book.release(self.record.id, self.owner)
        log.info("study %s ended (%s)", self.record.id, ended_by)
        return self.record
