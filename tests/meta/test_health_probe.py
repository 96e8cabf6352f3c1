"""The `/health` probe of the hostile tests and `python -m benchmarks.hostile`
(`tests.latency.HealthProbe`) times the server, not its caller: it probes from a
process of its own, so a long C call of the caller (which holds the caller's GIL)
does not count as the server holding its event loop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.latency import HealthProbe
from tests.server import ServerProcess

#: A real server process.
pytestmark = pytest.mark.slow


def test_the_callers_own_long_c_calls_do_not_count_as_the_servers(tmp_path: Path) -> None:
    big = list(range(3_000_000))
    with ServerProcess(["--example", "--in-memory"], tmp_path) as server:
        calls = []
        with HealthProbe(server.base) as probe:
            for _ in range(3):
                started = time.perf_counter()
                json.dumps(big)  # one C call: the GIL stays with this thread throughout
                calls.append(time.perf_counter() - started)
        assert probe.failures == []
        assert probe.count >= 3
        # A probe sharing this process's GIL waited out a whole call at least once.
        assert probe.worst < min(calls) / 2, (probe.worst, calls)
