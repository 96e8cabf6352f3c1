"""`python -m benchmarks.profile_scenarios` splits a round into the benchmark's three
phases (all created, all run, polled to the end) and reads the server's CPU in each:
the figures behind issue 23's "create+run+complete, HTTP: SQLite / in memory"."""

from __future__ import annotations

import pytest

from benchmarks import profile_scenarios
from benchmarks.bench_scenarios import create_run_complete
from benchmarks.common import Server, api

#: A real server process.
pytestmark = pytest.mark.slow


def test_the_benchmark_tells_each_phase_as_it_begins_and_the_end() -> None:
    told: list[tuple[str, int]] = []
    statuses = []
    with (
        Server(["--config", "benchmarks.configs:instant_config", "--in-memory"]) as server,
        api(server) as client,
    ):

        def phase(name: str) -> None:
            listed = client.get("/sessions/main/scenarios").json()
            statuses.append(sorted({s["status"] for s in listed}))
            told.append((name, len(listed)))

        create_run_complete(client, "p", 3, phase=phase)
    assert [name for name, _ in told] == ["create", "run", "drain", "end"]
    # Nothing before the creates, three created before the runs, all complete at the end.
    assert [count for _, count in told] == [0, 3, 3, 3]
    assert statuses[1] == ["created"] and statuses[3] == ["complete"]


def test_a_round_gives_each_phase_its_wall_time_and_the_servers_cpu() -> None:
    phases = profile_scenarios.cpu_by_phase(40, ["--in-memory"])
    assert list(phases) == list(profile_scenarios.PHASES)
    for phase in phases.values():
        assert phase.wall > 0
        assert all(ms >= 0 for ms in phase.cpu.values())
    # The server worked in each phase: the creates, the runs, the polls.
    assert all(sum(phase.cpu.values()) > 0 for phase in phases.values()), phases
