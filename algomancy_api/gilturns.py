"""Short GIL turns while a pure-Python, CPU-bound step runs in a worker thread.

CPython hands the GIL from a thread that keeps it to one that waits for it only
after the switch interval (5 ms by default), and the event loop waits for it again
at each of its turns (every socket read and write, every hop to a thread). So a
worker thread running pure Python for seconds holds every other request back, by up
to 5 ms a turn of the loop: an XLSX download of 1.9M cells (openpyxl's pure-Python
writer, about 2 s in a worker thread) held `/health` for 1,385-2,983 ms in
`python -m benchmarks.hostile`, and 99 ms with 1 ms turns.

`short_turns` sets the process's switch interval to `SHORT_TURN_SECONDS` while such
a step runs, and back when the last such step ends (steps in several threads share
one setting). Only around those steps: on the hot paths shorter turns cost
throughput ("a shorter GIL switch interval was worse", benchmarks/bench_scenarios.py),
so the process keeps Python's interval otherwise.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

#: The switch interval while a step of `short_turns` runs.
SHORT_TURN_SECONDS = 0.001


class _Turns:
    """How many `short_turns` steps run now, and the interval to go back to."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved = sys.getswitchinterval()


_TURNS = _Turns()


@contextlib.contextmanager
def short_turns() -> Iterator[None]:
    """Run the body with the GIL handed over every `SHORT_TURN_SECONDS` at most."""
    turns = _TURNS
    with turns.lock:
        if turns.running == 0:
            turns.saved = sys.getswitchinterval()
            sys.setswitchinterval(min(turns.saved, SHORT_TURN_SECONDS))
        turns.running += 1
    try:
        yield
    finally:
        with turns.lock:
            turns.running -= 1
            if turns.running == 0:
                sys.setswitchinterval(turns.saved)
