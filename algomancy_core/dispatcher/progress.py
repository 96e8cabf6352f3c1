"""The progress buffer: reports of a run, written to the store at a pace it takes."""

from __future__ import annotations

import math
import time

from algomancy_core.dispatcher.runs import RunsHeld


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
