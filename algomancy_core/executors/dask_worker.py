"""The Dask worker side of `DaskExecutor`: a task runs a batch of runs in order
(`run_batch`), and how a run travels to it (`dump_run`, `load_run`).

What a task tells the server while it runs (each run's start, progress, reports
and end) goes as structured events (`Worker.log_event`) on the executor's topic:
the worker's stream to the scheduler batches them and the scheduler pushes them to
the server's client, with no round trip and before the task's own end. Per task,
three scheduler round trips remain on the worker (`Event` "started": looked at and
set, so that a task Dask re-runs after its worker died knows it; and a look at its
cancel flag at its end) plus a look at that flag at most every
`CANCEL_CHECK_INTERVAL` seconds while it runs.
"""

from __future__ import annotations

import io
import pickle
import threading
import time
from typing import Any

from algomancy_core.algorithm import RunContext
from algomancy_core.executors.base import RunOutcome, RunRequest, execute
from algomancy_core.executors.process_worker import ProgressRelay, dump_outcome
from algomancy_core.executors.run_data import copies_by_dict, copies_safely, run_copy

#: Seconds between two looks at a task's cancel flag from a worker (each is a round trip).
CANCEL_CHECK_INTERVAL = 0.2
#: A worker sends at most one progress report per this many seconds (the latest wins).
PROGRESS_INTERVAL = 0.05

#: What a task re-run by Dask (its first worker died while running it) gives back.
RERUN = "rerun"

#: How the token of data sent for one run only begins (a `data_key` is JSON: "[...").
ONCE = "once-"

#: Events on the executor's topic: [kind, task key, index in the task, ...].
STARTED, PROGRESS, REPORTS, ENDED = "s", "p", "r", "e"


def dump_run(request: RunRequest, token: str) -> bytes:
    """`request` pickled with its data replaced by `token` (sent beside it, once per
    task: `run_batch`'s `blobs`)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    data = request.data
    pickler.persistent_id = lambda obj: token if obj is data else None  # type: ignore[method-assign]
    pickler.dump(request)
    return buffer.getvalue()


def load_run(payload: bytes, blobs: dict[str, bytes]) -> RunRequest:
    """The request of `dump_run`, with a fresh copy of its data: what a run does to
    its data never reaches the next run of the batch."""
    unpickler = pickle.Unpickler(io.BytesIO(payload))
    unpickler.persistent_load = lambda token: _fresh_data(token, blobs[token])  # type: ignore[method-assign]
    request = unpickler.load()
    if not isinstance(request, RunRequest):
        raise TypeError(f"the server sent {type(request).__name__}, not a RunRequest")
    return request


#: The data of the last token loaded on this worker, never given to a run itself
#: (a token names its data's content: the dispatcher's `data_key`; or `ONCE`...),
#: None when a copy of it would share something mutable (`copies_safely`); and
#: whether it copies attribute by attribute (`copies_by_dict`).
_held: tuple[str, Any, bool] | None = None
_held_lock = threading.Lock()


def _fresh_data(token: str, blob: bytes) -> Any:
    """A copy of the data `blob` holds: a `run_copy` of the one held (unpickling it
    was two thirds of a worker's time per trivial run; a deep copy a third of that,
    this copy half of a deep copy), or a fresh unpickled one when a copy would share
    something mutable."""
    global _held
    if token.startswith(ONCE):
        return pickle.loads(blob)
    with _held_lock:
        held = _held
        if held is None or held[0] != token:
            master = pickle.loads(blob)
            safe = copies_safely(master)
            held = _held = (token, master if safe else None, safe and copies_by_dict(master))
    if held[1] is None:
        return pickle.loads(blob)
    return run_copy(held[1], held[2])


class _CancelFlag:
    """The task's cancel flag (`Event` "{key}-cancel", set by the server) and the
    indexes of its cancelled runs (`Variable` "{key}-cancelled"), looked at no more
    than every `CANCEL_CHECK_INTERVAL` seconds."""

    def __init__(self, key: str) -> None:
        from distributed import Event, Variable

        self._event = Event(f"{key}-cancel")
        self._variable = Variable(f"{key}-cancelled")
        self._checked_at = time.monotonic()
        self._signalled = False
        self.cancelled: set[int] = set()

    def look(self) -> set[int]:
        now = time.monotonic()
        if now - self._checked_at >= CANCEL_CHECK_INTERVAL:
            self._checked_at = now
            if self._signalled or self._event.is_set():
                self._signalled = True  # the list may grow: read it at each look
                self.cancelled = set(self._variable.get())
        return self.cancelled

    def finish(self, started: Any) -> None:
        """At the task's end: if it was told of a cancel, delete its objects on the
        scheduler (the server leaves that to a task it cancelled while it ran)."""
        if self._signalled or self._event.is_set():
            self._event.clear()
            self._variable.delete()
            started.clear()


class _Outbox:
    """A task's events for the server, sent in lists (one `log_event` each): a run's
    start at once, with what the run before it left (its last progress, its end);
    what a run reports in its first `PROGRESS_INTERVAL` seconds waits for the next
    that goes, or for the worker's flusher (`_Flusher`), so at most about twice
    that (a trivial run's events then cost one `log_event`, not three)."""

    def __init__(self, worker: Any, topic: str) -> None:
        self._worker = worker
        self._topic = topic
        self._lock = threading.Lock()
        self._pending: list[list[Any]] = []
        self._run_started = time.monotonic()

    def put(self, message: list[Any]) -> None:
        with self._lock:
            self._pending.append(message)
            if time.monotonic() - self._run_started >= PROGRESS_INTERVAL:
                self._flush()

    def start(self, message: list[Any]) -> None:
        with self._lock:
            self._pending.append(message)
            self._run_started = time.monotonic()
            self._flush()

    def flush(self, stale_only: bool = False) -> None:
        with self._lock:
            if not stale_only or time.monotonic() - self._run_started >= PROGRESS_INTERVAL:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._worker.log_event(self._topic, self._pending)
            self._pending = []


class _Flusher:
    """A worker process's thread that sends what outboxes of running tasks held
    back for longer than `PROGRESS_INTERVAL` (a run that reported early, then went
    quiet), every `PROGRESS_INTERVAL` while a task runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._boxes: set[_Outbox] = set()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def add(self, box: _Outbox) -> None:
        with self._lock:
            self._boxes.add(box)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="algomancy-dask-flusher", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def remove(self, box: _Outbox) -> None:
        with self._lock:
            self._boxes.discard(box)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: bool(self._boxes))
                boxes = list(self._boxes)
            for box in boxes:
                box.flush(stale_only=True)
            time.sleep(PROGRESS_INTERVAL)


_flusher = _Flusher()


def run_batch(
    topic: str, key: str, jobs: list[bytes], blobs: dict[str, bytes]
) -> list[bytes] | str:
    """The task: run `jobs` (`dump_run`'s) one after another on this worker; each
    run's pickled `RunOutcome`, in order, or `RERUN` when an earlier attempt of
    this task started on a worker that was lost."""
    from distributed import Event, get_worker

    started = Event(f"{key}-started")
    if started.is_set():
        return RERUN
    started.set()
    outbox = _Outbox(get_worker(), topic)
    _flusher.add(outbox)
    flag = _CancelFlag(key)
    outcomes = []
    try:
        for index, job in enumerate(jobs):
            if index in flag.look():
                outcomes.append(dump_outcome(RunOutcome(cancelled=True)))
                continue
            outcomes.append(dump_outcome(_run_one(job, blobs, index, key, flag, outbox)))
    finally:
        _flusher.remove(outbox)
        outbox.flush()  # before the task's end: the server has them before its outcomes
        flag.finish(started)
    return outcomes


def _run_one(
    job: bytes, blobs: dict[str, bytes], index: int, key: str, flag: _CancelFlag, outbox: _Outbox
) -> RunOutcome:
    outbox.start([STARTED, key, index])
    try:
        request = load_run(job, blobs)
    except Exception as exc:
        return RunOutcome(error=f"the Dask worker cannot load the run: {type(exc).__name__}: {exc}")
    relay = ProgressRelay(
        lambda p, m: outbox.put([PROGRESS, key, index, p, m]),
        PROGRESS_INTERVAL,
        send_reports=lambda batch: outbox.put([REPORTS, key, index, [list(r) for r in batch]]),
    )
    ctx = RunContext(
        on_progress=relay, is_cancelled=lambda: index in flag.look(), on_report=relay.report
    )
    begun = time.perf_counter()  # the algorithm's time (not the first import of its module)
    outcome = execute(request, ctx)
    relay.flush()
    outbox.put([ENDED, key, index, time.perf_counter() - begun])
    return outcome
