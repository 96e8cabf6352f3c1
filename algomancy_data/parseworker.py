"""A parser child of `ParsePool`: ``python -m algomancy_data.parseworker FD``.

It reads tasks ``(function, args, memory_bytes, seconds)`` from the connection on
file descriptor FD, one at a time, and answers ``("ok", result)``, ``("memory",
None)`` or ``("error", text)`` (`algomancy_data.answers.send_answer`; the pool reads it with
`recv_answer`). Each task runs under ``RLIMIT_AS`` = `memory_bytes` and an
``RLIMIT_CPU`` `seconds` beyond the CPU time used so far:
past it the kernel ends the process (SIGXCPU), as a failed native allocation
does (SIGABRT); the pool sees it die and replaces it.
"""

from __future__ import annotations

import resource
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from algomancy_data.answers import send_answer


def serve(connection: Connection) -> None:
    """Answer tasks until the pool closes the connection."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file
    while True:
        try:
            function, args, memory_bytes, seconds = connection.recv()
        except (EOFError, OSError):
            return
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu + seconds, resource.RLIM_INFINITY))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, resource.RLIM_INFINITY))
        try:
            answer: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            answer = ("memory", None)
        except Exception as exc:  # anything else is the parser's own error
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            send_answer(connection, answer)
        finally:
            del answer
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
