"""The progress buffer: reports of a run (progress and intermediate values), written
to the store at a pace it takes."""

from __future__ import annotations

import math
import time

from algomancy_core.dispatcher.runs import Run, RunsHeld
from algomancy_core.reports import REPORTS_KEPT, thin


class ProgressBuffer(RunsHeld):
    """Reports from runs, kept and written a few times a second on shared stores."""

    def _on_progress(self, scenario_id: str, progress: float, message: str | None) -> None:
        """A report from a run, in its own thread. A memory store takes it at once (a
        dictionary write). On a shared store the algorithm never waits for the store:
        the report is kept, and the dispatcher's thread writes the run's first report
        at once and later ones every `progress_interval` (`_flush_progress`); a run
        that ends first has its end written instead."""
        if not self.progress_interval:
            with self._lock:
                if scenario_id not in self._runs:
                    return
            self.lifecycle.report_progress(scenario_id, progress, message)
            return
        with self._lock:
            run = self._runs.get(scenario_id)
            if run is None:
                return
            run.progress, run.message = progress, message
            if run.flushed_at == -math.inf and run.first is None:
                run.first = (progress, message)
            else:
                run.dirty = True
            due = (
                run.first is not None or time.monotonic() - run.flushed_at >= self.progress_interval
            )
        if due:
            self._wake.set()

    def _flush_progress(self) -> None:
        """Write the reports that are due (see `_on_progress`)."""
        now = time.monotonic()
        due: list[tuple[str, float, str | None]] = []
        with self._lock:
            for scenario_id, run in self._runs.items():
                if run.first is not None:
                    due.append((scenario_id, *run.first))
                    run.first, run.flushed_at = None, now
                elif run.dirty and now - run.flushed_at >= self.progress_interval:
                    due.append((scenario_id, run.progress, run.message))
                    run.dirty, run.flushed_at = False, now
        for scenario_id, progress, message in due:
            self.lifecycle.report_progress(scenario_id, progress, message)

    def _on_report(self, scenario_id: str, step: int, value: float) -> None:
        """An intermediate value of a run, in its own thread. Kept in order and
        written as progress is: at once to a memory store; to a shared store the
        run's first at once, later ones together every `progress_interval`, the
        rest before the run's end is written (`_end_reports`)."""
        if not self.progress_interval:
            with self._lock:
                if scenario_id not in self._runs:
                    return
            with self._reports_lock:
                self.lifecycle.add_reports(scenario_id, [(step, value)])
            return
        with self._lock:
            run = self._runs.get(scenario_id)
            if run is None:
                return
            run.reports.append((step, value))
            if len(run.reports) > REPORTS_KEPT:
                # Bounded while waiting too (a run may report faster than the store takes).
                run.reports = thin(run.reports)
            due = time.monotonic() - run.reports_flushed_at >= self.progress_interval
        if due:
            self._wake.set()

    def _flush_reports(self) -> None:
        """Write the intermediate values that are due (see `_on_report`)."""
        with self._reports_lock:
            now = time.monotonic()
            due: list[tuple[str, list[tuple[int, float]]]] = []
            with self._lock:
                for scenario_id, run in self._runs.items():
                    if run.reports and now - run.reports_flushed_at >= self.progress_interval:
                        due.append((scenario_id, run.reports))
                        run.reports, run.reports_flushed_at = [], now
            for scenario_id, reports in due:
                self.lifecycle.add_reports(scenario_id, reports)

    def _end_reports(self, run: Run) -> None:
        """Write what is left of an ended run's intermediate values (`run` is no
        longer held: nothing adds to them), before its end is written."""
        with self._reports_lock:
            reports, run.reports = run.reports, []
            if reports:
                self.lifecycle.add_reports(run.record.id, reports)
