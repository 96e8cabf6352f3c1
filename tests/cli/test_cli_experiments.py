"""`algomancy-api experiment ...` against a real server process (the commands called
in this process: `tests.cli.test_cli_commands.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from algomancy_core.scenario import INTERRUPTED
from tests.cli.gated_domain import GATE_ENV
from tests.cli.test_cli_commands import as_json, cli
from tests.polling import wait_for
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

#: The example and `Gated` (`tests/cli/gated_domain.py`).
GATED = "tests.cli.gated_domain:settings"


def test_create_show_results_and_cancel(example_server: ServerProcess) -> None:
    s = example_server
    as_json(cli(s, "--json", "sessions", "create", "sweeps"))
    made = as_json(
        cli(
            s,
            "--json",
            "experiment",
            "create",
            "mixed",
            "--algorithm",
            "Random slotting",
            "--grid",
            "seed=1,2,3",
            "--random",
            "data.demand_growth=1:2",
            "--n",
            "4",
            "--seed",
            "9",
            session="sweeps",
        )
    )
    assert made["design"]["kind"] == "random" and made["counts"]["planned"] == 4
    assert made["axes"] == ["seed", "data.demand_growth"]

    wait_for(lambda: experiment(s, "sweeps", made["id"]), complete, timeout=120)
    shown = as_json(cli(s, "--json", "experiment", "show", "mixed", session="sweeps"))
    assert shown["status"] == "complete"
    rows = as_json(cli(s, "--json", "experiment", "results", "mixed", session="sweeps"))
    assert [r["point"] for r in rows] == [1, 2, 3, 4]
    assert all(r["seed"] in (1, 2, 3) and 1.0 <= r["data.demand_growth"] < 2.0 for r in rows)
    assert all(r["status"] == "complete" and r["travel_distance"] is not None for r in rows)
    plain = cli(s, "experiment", "results", "mixed", session="sweeps")
    assert plain.returncode == 0 and "travel_distance" in plain.stdout
    cancelled = as_json(cli(s, "--json", "experiment", "cancel", "mixed", session="sweeps"))
    assert cancelled["status"] == "cancelled"

    too_many = cli(
        s,
        "experiment",
        "create",
        "big",
        "--algorithm",
        "Random slotting",
        "--random",
        "travel_speed_m_s",
        "--n",
        "20",
        "--max-scenarios",
        "10",
        session="sweeps",
    )
    assert too_many.returncode == 1 and "20 points" in too_many.stderr
    unknown = cli(
        s, "experiment", "create", "x", "--algorithm", "Random slotting", "--grid", "nope=1"
    )
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    both = cli(
        s,
        "experiment",
        "create",
        "x",
        "--algorithm",
        "Random slotting",
        "--random",
        "seed",
        "--oat",
        "travel_speed_m_s",
    )
    assert both.returncode == 2 and "--random and --oat" in both.stderr


def test_a_morris_design_with_its_levels(example_server: ServerProcess) -> None:
    s = example_server
    as_json(cli(s, "--json", "sessions", "create", "morris"))
    made = as_json(
        cli(
            s,
            "--json",
            "experiment",
            "create",
            "knobs",
            "--algorithm",
            "Batch picking",
            "--morris",
            "batch_size",
            "--morris",
            "start_hour",
            "--n",
            "2",
            "--levels",
            "6",
            session="morris",
        )
    )
    assert made["design"]["kind"] == "morris" and made["design"]["levels"] == 6
    assert made["counts"]["planned"] == 2 * (2 + 1)
    odd = cli(
        s, "experiment", "create", "odd", "--algorithm", "Batch picking", "--sobol",
        "batch_size", "--n", "3", session="morris",
    )  # fmt: skip
    assert odd.returncode == 1 and "power of 2" in odd.stderr


def test_resume_after_cancel_runs_nothing_that_completed(example_server: ServerProcess) -> None:
    s = example_server
    as_json(cli(s, "--json", "sessions", "create", "resumed"))
    made = as_json(
        cli(
            s, "--json", "experiment", "create", "batch", "--algorithm", "Batch picking",
            "--grid", "batch_size=1,2", session="resumed",
        )
    )  # fmt: skip

    wait_for(lambda: experiment(s, "resumed", made["id"]), complete, timeout=120)
    shown = as_json(cli(s, "--json", "experiment", "show", made["id"], session="resumed"))
    assert shown["status"] == "complete"
    cli(s, "experiment", "cancel", "batch", session="resumed")
    resumed = as_json(cli(s, "--json", "experiment", "resume", "batch", session="resumed"))
    assert resumed["status"] == "complete"
    assert resumed["counts"]["complete"] == 2 and resumed["counts"]["queued"] == 0


def test_after_sigkill_resume_runs_only_what_had_not_completed(tmp_path: Path) -> None:
    """A point completes, the next is processing when the server is killed; after
    a restart that point is failed (interrupted), and `experiment resume` runs it
    again, and nothing that had completed. The second point (`Gated`, `hold=1`) runs
    until the test opens its gate, after the restart: it is surely still running at
    the kill, and its second run ends at once (with the example's `Slow` at 20 s it
    was a guess, and 20 s of waiting for the run again)."""
    state = tmp_path / "state"
    gate = tmp_path / "gate"
    args = ["--config", GATED, "--data-path", str(state)]
    env = {GATE_ENV: str(gate)}
    server = ServerProcess(args, tmp_path, env=env).start()
    try:
        made = as_json(
            cli(
                server, "--json", "experiment", "create", "slow", "--algorithm", "Gated",
                "--grid", "hold=0,1",
            )
        )  # fmt: skip

        def rows() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = as_json(
                cli(server, "--json", "experiment", "results", made["id"])
            )
            return found

        wait_for(
            lambda: statuses(server, made), lambda r: r == ["complete", "processing"], interval=0.1
        )
        assert [p["status"] for p in rows()] == ["complete", "processing"]
        first = scenario(server, made["scenario_ids"][0])
        server.kill()
    finally:
        server.kill()
    server = ServerProcess(args, tmp_path, env=env).start()
    try:
        interrupted = wait_for(
            lambda: scenario(server, made["scenario_ids"][1]), lambda s: s["status"] == "failed"
        )
        assert interrupted["error"] == INTERRUPTED
        gate.touch()
        resumed = as_json(cli(server, "--json", "experiment", "resume", "slow"))
        assert resumed["counts"]["complete"] == 1
        wait_for(
            lambda: statuses(server, made),
            lambda r: r == ["complete"] * 2,
            timeout=120,
            interval=0.1,
        )
        assert [p["status"] for p in rows()] == ["complete", "complete"]
        again = scenario(server, made["scenario_ids"][0])
        ran = ("started_at", "finished_at", "kpis")
        assert {k: again[k] for k in ran} == {k: first[k] for k in ran}  # not run again
    finally:
        server.kill()


def experiment(server: ServerProcess, session: str, experiment_id: str) -> dict[str, Any]:
    """The experiment over HTTP: what the waits poll, where a `experiment show` process
    per poll kept a core busy (each CLI call starts an interpreter; the CLI output is
    asserted once the wait is over). The file alone: 31 s of user CPU polling through
    the CLI, 27 s polling over HTTP (one run each, load 4-5 on 2 cores); its wall time
    is mostly the Slow point's 20 s, unchanged."""
    url = f"{server.base}/api/v1/sessions/{session}/experiments/{experiment_id}"
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def complete(found: dict[str, Any]) -> bool:
    return found["status"] == "complete"


def statuses(server: ServerProcess, made: dict[str, Any]) -> list[str]:
    """The status of each point of the experiment `made` (session main), over HTTP."""
    return [scenario(server, sid)["status"] for sid in made["scenario_ids"]]


def scenario(server: ServerProcess, scenario_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.base}/api/v1/sessions/main/scenarios/{scenario_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found
