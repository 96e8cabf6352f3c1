"""The claim loop: claims queued scenarios while there is room, and starts them."""

from __future__ import annotations

import collections
import copy
import logging
import math
import threading
import time
from datetime import timedelta

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.dispatcher.leases import Leases, new_owner_id
from algomancy_core.dispatcher.outcomes import OutcomeRecorder
from algomancy_core.dispatcher.progress import ProgressBuffer
from algomancy_core.dispatcher.runs import Run
from algomancy_core.executors.base import (
    DoneTogether,
    Executor,
    RunOutcome,
    RunRequest,
    Submission,
    submit_many,
)
from algomancy_core.kpi import BaseKPI
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.lineage import canonical_json, executor_name, run_lineage
from algomancy_core.observe import Observers, outcome_name
from algomancy_core.scenario import (
    INTERRUPTED,
    ScenarioRecord,
    ScenarioStatus,
    utcnow,
)

log = logging.getLogger("algomancy.dispatcher")

S = ScenarioStatus


def data_key(record: ScenarioRecord) -> str | None:
    """What names the data `record` runs on (`RunRequest.data_key`): its dataset
    version with that version's digest, and its data-parameter values; None when the
    version's content is not known (no digest)."""
    if record.dataset_digest is None:
        return None
    return canonical_json(
        [
            record.session_id,
            record.dataset_key,
            record.dataset_version,
            record.dataset_digest,
            record.data_parameters,
        ]
    ).decode()


class Dispatcher(ProgressBuffer, OutcomeRecorder, Leases):
    """Moves queued scenarios through the executor, up to its capacity at a time:
    one of a session's own at a time per session, batch scenarios in parallel.

    An executor that takes runs ahead of a free worker (`prefetch`, the process
    executor's: one per worker) is given up to that many more, of experiments'
    points only: a worker then starts its next point as soon as it sends back the
    last one's result, instead of waiting for the server to record it and claim
    the next. A point claimed ahead is `processing` (it holds a lease, so a server
    that dies with it leaves it to be re-queued like any claimed run) but waits;
    it is cancelled at once, and its time limit counts from its start. When the
    next to claim is a session's own scenario nothing is claimed ahead: it waits
    for a free worker, behind at most the points claimed ahead already.

    Points are claimed ahead as many at a time as there is room for (one write,
    `Lifecycle.claim_points`) and handed to the executor together (`submit_many`);
    runs that end together (an executor's `DoneTogether`) are recorded together
    (`_on_done_many`: one write for their completions).
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        executor: Executor,
        algorithms: dict[str, type[BaseAlgorithm]],
        kpis: dict[str, type[BaseKPI]],
        *,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
        progress_interval: float = 0.25,
        run_timeout: float | None = None,
        requeue_interrupted: bool = False,
        observers: Observers | None = None,
        audit_retention: timedelta | None = None,
    ) -> None:
        self.lifecycle = lifecycle
        self.observers = observers if observers is not None else Observers()
        self.store = store = lifecycle.store
        self.executor = executor
        self.algorithms = algorithms
        self.kpis = kpis
        self.owner = new_owner_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_interval = poll_interval
        # Memory stores take every report; shared stores get a few writes a second.
        self.progress_interval = progress_interval if store.shared else 0.0
        self.run_timeout = run_timeout
        self.requeue_interrupted = requeue_interrupted
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._reports_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_housekeeping = 0.0
        self.audit_retention = audit_retention
        self._last_audit_prune = float("-inf")
        # Claims that may succeed since the last look found nothing: one per local
        # event that can make one (a scenario queued in a session idle here, a run
        # ended here). Start-up and each poll look until nothing is claimable (other
        # processes queue and finish work too).
        self._may_claim = self.room
        # A scenario was queued here since the last claim (`queued`): the next claim
        # goes straight to the store's write, without its look at the queue first
        # (`Store.claim_next`'s `expected`). One statement fewer per run requested
        # on SQLite: "11 create+run+complete, HTTP: SQLite / in memory"
        # (`benchmarks.bench_scenarios`, whose docstring has the figure).
        self._told = False
        # Sessions whose own run ended here, until the next claim looks (that claim
        # takes their next), and sessions with a scenario queued here behind their
        # own run here: the claim after that run's end is told of it. For the same
        # figure, a run requested while its session ran another here (the
        # benchmark's pattern) made the dispatcher look in the queue before the
        # claim after the end, and a scenario queued just after a run ended and
        # before the next claim made a second claim, an empty write transaction
        # (0.53 a scenario in process). A session in both whose scenario was
        # cancelled meanwhile costs one claim an empty write.
        self._ended: set[str] = set()
        self._behind: collections.Counter[str] = collections.Counter()
        self._filling = threading.Lock()

    @property
    def prefetch(self) -> int:
        """Runs held beyond the executor's capacity, claimed ahead of a free worker:
        the executor's `prefetch`, read at each look (the process executor's grows
        while its runs are quick; the Dask executor's follows its runs' durations)."""
        return int(getattr(self.executor, "prefetch", 0))

    @property
    def room(self) -> int:
        """How many runs this dispatcher holds at most."""
        return self.executor.capacity + self.prefetch

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="algomancy-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.handle is not None:
                run.stop_reason = INTERRUPTED
                run.handle.cancel()

    def queued(self, record: ScenarioRecord) -> None:
        """`record` was queued by this process: look for work now, unless it is its
        session's own and the session runs one of its own here (its turn comes when
        that run ends, which looks again). Batch scenarios run in parallel."""
        with self._lock:
            if record.batch is None and (
                record.session_id in self._ended
                or any(
                    run.record.session_id == record.session_id and run.record.batch is None
                    for run in self._runs.values()
                )
            ):
                # Its turn comes with the claim after that run's end: told of it.
                self._behind[record.session_id] += 1
                return
            self._may_claim += 1
            self._told = True
        self._wake.set()

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    # -- the loop ------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._fill()
                self._flush_progress()
                self._flush_reports()
                self._housekeeping()
            except Exception:
                log.exception("dispatcher iteration failed; retrying")
                time.sleep(self.poll_interval)
            if not self._wake.wait(self.poll_interval):
                with self._lock:  # the poll: look until nothing is claimable
                    self._may_claim = self.room
            self._wake.clear()

    def _fill(self) -> None:
        """Claim and start runs while there is room and a claim may succeed. One
        thread at a time: another that finds it busy leaves the work to it."""
        if not self._filling.acquire(blocking=False):
            return  # the thread filling checks again when it is done
        try:
            self._claim_and_start()
        finally:
            self._filling.release()
        with self._lock:
            # A claim asked for after this thread's last look: the dispatcher's turn.
            more = self._may_claim > 0 and self._wanted(len(self._runs)) > 0
        if more:
            self._wake.set()

    def _claim_and_start(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                looking = self._may_claim
                held = len(self._runs)
                wanted = min(looking, self._wanted(held))
                if wanted <= 0:
                    return
                ahead = held >= self.executor.capacity
                # Told of a queued scenario (and not claiming ahead, which may not
                # take it): this claim answers the telling.
                expected = self._told and not ahead
                if expected:
                    self._told = False
            lease_until = utcnow() + self.lease
            if ahead:
                records = self.lifecycle.claim_points(self.owner, lease_until, wanted)
            else:
                record = self.lifecycle.claim(self.owner, lease_until, expected=expected)
                records = [] if record is None else [record]
            with self._lock:
                # Found fewer than wanted: what asked for this look is answered (not
                # what came meanwhile, which set the wake event and looks again).
                self._may_claim -= len(records) if len(records) == wanted else looking
            if records:
                self._start(records)
            with self._lock:
                # Queued behind an ended run of a session this look found nothing of
                # (queued after its read): told again.
                claimed = {record.session_id for record in records if record.batch is None}
                missed = (self._behind.keys() & self._ended) - claimed
                self._ended.clear()
                if missed:
                    for session_id in missed:
                        del self._behind[session_id]
                    self._may_claim += 1
                    self._told = True
            if len(records) < wanted:
                return

    def _wanted(self, held: int) -> int:
        """How many runs to claim now, holding `held`: one while a worker is free (it
        may be a session's own scenario); beyond the capacity, points claimed ahead,
        never a session's own, as many as there is room for in one write, once
        there is room for half of `prefetch` (the other half still queued for the
        workers). Claims of a few dozen quick points, not one per point that ends:
        the server's CPU per point in "E2" of `benchmarks/pool_points.py`."""
        if held < self.executor.capacity:
            return 1
        room = self.room - held
        return room if room >= max(1, self.prefetch // 2) else 0

    def _start(self, records: list[ScenarioRecord]) -> None:
        """Start the runs of `records` (claimed), handed to the executor together."""
        prepared = [run for run in map(self._prepare, records) if run is not None]
        if not prepared:
            return
        try:
            handles = submit_many(self.executor, [submission for _, submission in prepared])
        except Exception as exc:
            log.exception("could not start %d runs", len(prepared))
            error = RunOutcome(error=f"could not start the run: {exc}")
            self._on_done_many([(run.record.id, error) for run, _ in prepared])
            return
        for (run, _), handle in zip(prepared, handles, strict=True):
            record = run.record
            # An experiment's points start (and end) at DEBUG: thousands of lines a
            # minute said nothing the experiment's own progress does not, and were a
            # third of the slot threads' busy time in 2,000 trivial points.
            log.log(
                logging.INFO if record.batch is None else logging.DEBUG,
                "scenario %s (%r): run started, algorithm %r on dataset %r",
                record.id,
                record.tag,
                record.algorithm,
                record.dataset_key,
                extra={"scenario_id": record.id, "event": "run-started"},
            )
            with self._lock:
                run.handle = handle
                # A cancel that came while the executor was starting the run.
                stop_now = run.stop_reason is not None
            if stop_now:
                handle.cancel()

    def _prepare(self, record: ScenarioRecord) -> tuple[Run, Submission] | None:
        """The run of `record`, held, and what the executor is given for it; None
        when it cannot start (then failed already)."""
        # The first report of a run is written at once, so that followers see the run
        # move; later ones wait their turn (a few writes a second on shared stores).
        run = Run(record, flushed_at=-math.inf)
        algorithm = self.algorithms.get(record.algorithm)
        # The run's own limit (or the configured one) and the algorithm's: the smaller.
        candidates = (
            record.timeout or self.run_timeout,
            algorithm.timeout if algorithm is not None else None,
        )
        limits = [limit for limit in candidates if limit is not None]
        if limits:
            run.limit = min(limits)
            run.deadline = time.monotonic() + run.limit
        with self._lock:
            self._runs[record.id] = run
        # An observer's context (a tracer's span of this run), else the one stored
        # with the queued run (the request's): whoever queued it, the trace goes on.
        trace_context = self.observers.run_started(record) if self.observers else None
        trace_context = trace_context or record.trace_context
        try:
            if algorithm is None:
                raise LookupError(f"algorithm {record.algorithm!r} is not registered")
            # The version the scenario is pinned to: a re-run reads the same data.
            data = self.store.get_dataset(
                record.session_id, record.dataset_key, record.dataset_version
            )
            if record.data_parameters:
                # A shallow copy: the stored (cached) dataset keeps its own values.
                data = copy.copy(data)
                data.data_parameters = {**data.data_parameters, **record.data_parameters}
            run.lineage = run_lineage(record, algorithm, executor_name(self.executor))
            request = RunRequest(
                record.id,
                algorithm,
                record.parameters,
                data,
                trace_context,
                record.seed,
                data_key(record),
            )
        except Exception as exc:
            log.exception("could not start scenario %s", record.id)
            self._on_done_many([(record.id, RunOutcome(error=f"could not start the run: {exc}"))])
            return None
        scenario_id = record.id
        return run, (
            request,
            lambda p, m: self._on_progress(scenario_id, p, m),
            DoneTogether(scenario_id, self._on_done_many),
            lambda step, value: self._on_report(scenario_id, step, value),
        )

    def _on_done_many(self, ends: list[tuple[str, RunOutcome]]) -> None:
        """Runs ended (`DoneTogether`): record their outcomes together (one write for
        quick runs that ended at once), then start what may run next."""
        with self._lock:
            popped = [(self._runs.pop(scenario_id, None), outcome) for scenario_id, outcome in ends]
            self._ended.update(
                run.record.session_id
                for run, _ in popped
                if run is not None and run.record.batch is None
            )
        runs = [(run, outcome) for run, outcome in popped if run is not None]
        if not runs:
            return
        try:
            for run, _ in runs:
                self._end_reports(run)
            written = self._record_outcomes(runs)
        except Exception:
            log.exception("recording the outcomes of %d runs failed", len(runs))
            error = "internal error while recording the result"
            written = [self._fail(run.record.id, error) for run, _ in runs]
        for (run, outcome), record in zip(runs, written, strict=True):
            self._log_end(run, record)
            if self.observers:
                seconds = time.monotonic() - run.started_at
                ended = outcome_name(run.stop_reason, outcome, record)
                self.observers.run_ended(run.record, ended, seconds, outcome)
        # Their sessions may have others queued: start them from this thread, without
        # a hand-over to the dispatcher's.
        with self._lock:
            # One more claim may succeed per run ended (its session's next); as many
            # as the room grew by when the executor takes runs ahead (its runs turned
            # out quick). Not without claims ahead: the second look, mostly at the
            # ended run's session's next that waits its turn, was an empty write
            # transaction (and a look before it) for 2 of 3 runs of one session on
            # SQLite, "11 create+run+complete, HTTP: SQLite / in memory"
            # (`benchmarks.bench_scenarios`); the poll still looks for others' work.
            grown = self.room - len(self._runs) if self.prefetch else 0
            self._may_claim = max(self._may_claim + len(runs), grown)
            if not self._behind.keys().isdisjoint(self._ended):
                self._told = True
                self._behind.subtract(self._ended & self._behind.keys())
                self._behind = +self._behind  # counts at 0 dropped
        try:
            self._fill()
        except Exception:
            log.exception("starting the next runs after %d ended failed", len(runs))
            self._wake.set()
