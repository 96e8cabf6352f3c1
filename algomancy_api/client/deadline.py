"""The deadline of the clients' waits (`wait`, `wait_experiment`, `wait_study`),
shared by the sync and the async client."""

from __future__ import annotations

import time


class Deadline:
    """`timeout` seconds from now (None: never) for following `subject` (say,
    "scenario <id>")."""

    def __init__(self, subject: str, timeout: float | None) -> None:
        self.subject = subject
        self.timeout = timeout
        self.at = None if timeout is None else time.monotonic() + timeout

    def check(self) -> None:
        """Raise TimeoutError once the deadline has passed."""
        if self.at is not None and time.monotonic() > self.at:
            raise TimeoutError(f"{self.subject} did not finish in {self.timeout} s")

    def read_timeout(self) -> float:
        """How long to wait for each line of the event stream."""
        # The server sends a keep-alive every 15 s: a longer silence is a dead stream.
        timeout = self.timeout
        return 30.0 if timeout is None else max(0.1, min(timeout, 30.0))
