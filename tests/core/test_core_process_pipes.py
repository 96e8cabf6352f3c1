"""Several quick runs in flight per worker (`ProcessExecutor.depth`): sent in one
message, run in order, a run cancelled while it waits in a worker's pipe reported at
once and skipped there, a worker's death failing only its running job."""

from __future__ import annotations

import collections
import pickle
from collections.abc import Iterator

import pytest

from algomancy_core.executors.base import RunRequest
from algomancy_core.executors.process import MAX_DEPTH, ProcessExecutor, _Job
from algomancy_core.executors.process_worker import JobQueue, ProgressRelay, dump_jobs, dump_skip

from .executor_algorithms import Crashes, Marks, Sleeper, items
from .test_core_executors import Collector
from .test_core_process_jobs import PipeWorker


def test_the_depth_grows_while_runs_are_quick_and_is_one_for_slow_runs() -> None:
    executor = ProcessExecutor(max_workers=2)
    assert (executor.depth, executor.prefetch) == (1, 2)  # nothing known yet
    for _ in range(8):
        executor._ran(0.0005)
    assert executor.depth == MAX_DEPTH and executor.prefetch == 2 * MAX_DEPTH
    executor._ran(0.01)  # one slower run counts at once
    assert executor.depth == 5
    executor._ran(0.2)
    assert (executor.depth, executor.prefetch) == (1, 2)


def test_a_worker_skips_a_job_it_was_told_to_skip_and_forgets_late_skips() -> None:
    queue = JobQueue()
    queue.absorb(dump_jobs([(1, b"one"), (2, b"two"), (3, b"three")]))
    queue.absorb(dump_skip(2))
    assert queue.next() == (1, b"one", False)
    assert queue.next() == (2, b"two", True)
    queue.absorb(dump_skip(1))  # came after the run: nothing to skip any more
    assert queue.next() == (3, b"three", False) and queue.skipped == set()


def test_a_job_cancelled_while_it_waits_in_a_pipe_is_reported_at_once_and_skipped() -> None:
    executor = ProcessExecutor(max_workers=1)
    worker = PipeWorker()
    running, waiting = Collector(), Collector()
    jobs = []
    for n, collector in enumerate((running, waiting)):
        job = _Job(executor, RunRequest(f"s{n}", Marks, {}, items()), *collector.callbacks())
        job.seq, job.state = n, "sent"
        jobs.append(job)
    sent: collections.deque[_Job] = collections.deque()
    executor._send(jobs, worker, sent)  # type: ignore[arg-type]
    assert list(sent) == jobs and [job.started() for job in jobs] == [True, False]
    jobs[1].cancel()
    assert waiting.outcome().cancelled and not running.finished.is_set()
    messages = [pickle.loads(worker.child.recv_bytes()) for _ in range(2)]
    assert [item[:2] for item in messages[0]] == [("job", 0), ("job", 1)]  # one message
    assert messages[1] == [("skip", 1)]


@pytest.fixture
def quick_worker() -> Iterator[ProcessExecutor]:
    """One worker that takes runs several at a time (as after quick runs)."""
    executor = ProcessExecutor(max_workers=1)
    for _ in range(8):
        executor._ran(0.0001)
    yield executor
    executor.shutdown()


def submit_together(executor: ProcessExecutor, *requests: RunRequest) -> list[Collector]:
    """Queue `requests` at once, before a slot takes any: they go to the worker in
    one message."""
    collectors = []
    with executor._lock:
        for request in requests:
            collector = Collector()
            job = _Job(executor, request, *collector.callbacks())
            job.seq = next(executor._seq)
            executor._queue.append(job)
            collectors.append(collector)
        executor._start_slots()
    return collectors


@pytest.mark.slow
def test_a_cancelled_waiting_run_never_runs_and_the_worker_goes_on(
    quick_worker: ProcessExecutor,
) -> None:
    first, cancelled, after = submit_together(
        quick_worker,
        RunRequest("first", Sleeper, {"duration": 1.5}, items()),
        RunRequest("cancelled", Sleeper, {"duration": 60.0}, items()),
        RunRequest("after", Sleeper, {"duration": 0.0}, items()),
    )
    first.wait_started()
    (handle,) = [job for job in quick_worker._running if job.request.scenario_id == "cancelled"]
    handle.cancel()
    assert cancelled.outcome().cancelled and cancelled.progress == []
    done, last = first.outcome(), after.outcome()
    assert done.result is not None and last.result is not None, (done, last)
    # The same worker process ran both: the cancelled run was skipped, not run and
    # stopped (which would have started a new process).
    assert done.result.to_dict()["pid"] == last.result.to_dict()["pid"]


@pytest.mark.slow
def test_a_worker_dying_fails_only_its_running_job_and_the_waiting_ones_run(
    quick_worker: ProcessExecutor,
) -> None:
    crashed, *waiting = submit_together(
        quick_worker,
        RunRequest("crashes", Crashes, {"duration": 0.0}, items()),
        *(RunRequest(f"w{n}", Sleeper, {"duration": 0.0}, items()) for n in range(3)),
    )
    assert crashed.outcome().error == "the worker process running this scenario died (exit code 3)"
    assert all(collector.outcome().ok for collector in waiting)


def test_a_quick_run_sends_no_bare_progress_number_before_its_success() -> None:
    """A worker's relay holds the first report too (`hold_first`): a run that
    reports a bare number and succeeds at once sends its end only."""
    sent: list[tuple[float, str | None]] = []
    relay = ProgressRelay(lambda p, m: sent.append((p, m)), interval=60.0, hold_first=True)
    relay(1.0, None)
    relay.flush(success=True)
    assert sent == []
    relay(0.5, None)  # before a failure it is sent
    relay.flush(success=False)
    relay(0.75, "a message")  # and a report with a message always
    relay.flush(success=True)
    assert sent == [(0.5, None), (0.75, "a message")]
    plain = ProgressRelay(lambda p, m: sent.append((p, m)), interval=60.0)
    plain(0.1, None)  # without `hold_first` the first report goes at once
    assert sent[-1] == (0.1, None)


def test_a_busy_worker_is_sent_only_runs_whose_data_it_holds() -> None:
    """Topping up the pipe of a worker that runs something: no dataset goes with it
    (a message bigger than the pipe would block the slot until the worker reads);
    the run that needs one, and those after it, wait in the queue."""
    executor = ProcessExecutor(max_workers=1)
    worker = PipeWorker()
    worker.data_key = "version-1"
    keys = ("version-1", "version-2", "version-1")
    jobs = []
    for n, key in enumerate(keys):
        request = RunRequest(f"s{n}", Marks, {}, items(), data_key=key)
        job = _Job(executor, request, *Collector().callbacks())
        job.seq, job.state = n, "sent"
        jobs.append(job)
    busy = _Job(executor, RunRequest("busy", Marks, {}, items()), *Collector().callbacks())
    sent: collections.deque[_Job] = collections.deque([busy])
    executor._send(jobs, worker, sent, small_only=True)  # type: ignore[arg-type]
    assert list(sent) == [busy, jobs[0]]
    assert list(executor._queue) == jobs[1:] and [job.state for job in jobs[1:]] == ["queued"] * 2
    message = pickle.loads(worker.child.recv_bytes())
    assert [item[:2] for item in message] == [("job", 0)]


def test_the_slot_loop_needs_an_executor_that_supplies_all_it_declares() -> None:
    """`Slots` is abstract: a subclass missing one of its methods cannot be made."""
    from algomancy_core.executors.process_slot import Slots

    class Partial(Slots):
        @property
        def depth(self) -> int:
            return 1

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]
    assert not ProcessExecutor.__abstractmethods__  # supplies them all


def test_a_slot_sees_a_message_or_the_end_of_its_workers_pipe() -> None:
    """`conn_poller`: one poll object kept per pipe, as `Connection.poll` answers."""
    import multiprocessing

    from algomancy_core.executors.process_worker import conn_poller

    mine, theirs = multiprocessing.Pipe(duplex=True)
    ready = conn_poller(mine)
    assert not ready(0) and not ready(0.01)
    theirs.send(("done", b"", 0.0))
    assert ready(0) and mine.recv()[0] == "done"
    assert not ready(0)
    theirs.close()  # the worker died: the slot must look, and read EOF
    assert ready(0.01)
    with pytest.raises(EOFError):
        mine.recv()
    mine.close()


def test_a_busy_workers_pipe_is_topped_up_once_half_of_it_has_run() -> None:
    executor = ProcessExecutor(max_workers=2)
    assert [executor._top_up(waiting) for waiting in (0, 1)] == [1, 0]  # slow runs
    for _ in range(8):
        executor._ran(0.0005)
    assert executor.depth == MAX_DEPTH
    half = MAX_DEPTH // 2
    assert executor._top_up(half + 1) == 0 and executor._top_up(MAX_DEPTH) == 0
    assert executor._top_up(half) == MAX_DEPTH - half and executor._top_up(0) == MAX_DEPTH


def test_the_run_clock_looks_at_the_cpu_wait_only_for_runs_that_were_not_quick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from algomancy_core.executors import process_worker
    from algomancy_core.executors.process_slot import PIPE_SECONDS
    from algomancy_core.executors.process_worker import QUICK_SECONDS, RunClock

    assert QUICK_SECONDS * MAX_DEPTH <= PIPE_SECONDS  # a quick run gets the most depth
    looks: list[int] = []
    waited = iter([0, 0, 30_000_000])  # ns waiting for a CPU, as schedstat says

    def waiting_ns(self: RunClock) -> int:
        looks.append(1)
        return next(waited)

    now = iter([10.0, 10.0002, 20.0, 20.05])
    monkeypatch.setattr(RunClock, "_waiting_ns", waiting_ns)
    monkeypatch.setattr(process_worker.time, "perf_counter", lambda: next(now))
    clock = RunClock()
    clock.start()
    assert clock.seconds() == pytest.approx(0.0002) and len(looks) == 1  # quick: one look
    clock.start()
    assert clock.seconds() == pytest.approx(0.02) and len(looks) == 3  # less its 30 ms wait
