"""`algomancy-api COMMAND` against a real server: the documented workflow as a user runs
it (each command a process, from a shell), the other commands called in this process
(`cli`), and what only a process shows with one (`cli_process`, `subprocess.Popen`)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from algomancy_api import cli as commands
from algomancy_example.domain import sample_file
from tests.docs.blocks import DOCS, blocks
from tests.docs.runner import Page, fresh_sessions, make_workdir, run_page
from tests.polling import scenario_status
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

#: The page whose commands `test_the_documented_workflow` runs (the docs test does not).
COMMAND_LINE_PAGE = DOCS / "command-line.md"


def cli(
    server: ServerProcess, *args: str, session: str = "main"
) -> subprocess.CompletedProcess[str]:
    """`algomancy-api ARGS` with the server named by the environment, as the docs do,
    called in this process (`algomancy_api.cli.main`, what `python -m algomancy_api`
    runs): its exit code and what it printed. A process of its own costs ~0.45 s of
    CPU to start (the interpreter and the client's imports): this file and
    `test_cli_experiments.py` took 75.5 s of CPU with a process per call and 44.5 s
    this way (one run each, side by side; docs/testing.md). What only a process shows
    stays tested with one: the documented workflow (the page's commands run in a
    shell), `run --wait` cancelled from another shell, `watch` live, and an unreachable
    server's exit code (`cli_process`)."""
    variables = {"ALGOMANCY_URL": server.base, "ALGOMANCY_SESSION": session}
    saved = {name: os.environ.get(name) for name in (*variables, "ALGOMANCY_API_KEY")}
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(variables)
    os.environ.pop("ALGOMANCY_API_KEY", None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = commands.main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def cli_process(
    server: ServerProcess | str, *args: str, session: str = "main"
) -> subprocess.CompletedProcess[str]:
    """`python -m algomancy_api ARGS` as a process of its own, for what only a process
    shows (its exit code as the shell sees it); `server` may be a bare URL."""
    base = server if isinstance(server, str) else server.base
    env = os.environ | {"ALGOMANCY_URL": base, "ALGOMANCY_SESSION": session}
    return subprocess.run(
        [sys.executable, "-m", "algomancy_api", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_documented_workflow(
    example_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/command-line.md's commands, run as the page shows them (the docs test leaves
    this page to this test, so the workflow runs once): upload two files, create two
    scenarios, run them with --wait, show the KPIs, compare them; then what they left."""
    s = example_server
    fresh_sessions(s.base)  # the page shows the sessions: only its own and `main`
    page = Page(COMMAND_LINE_PAGE, make_workdir(tmp_path / "work"), s.base, tmp_path)
    run_page(page, blocks(COMMAND_LINE_PAGE), monkeypatch)
    # The workflow's block: each command exited 0 (`set -e`; `--wait` exits 0 only for
    # a complete run), and printed what it did.
    workflow = next(out for script, out in page.printed if "upload mine" in script).splitlines()
    assert any(line.startswith("mine: stored") for line in workflow), workflow
    for tag in ("abc", "random"):
        assert any(tag in line.split() and "created" in line.split() for line in workflow), tag
    assert any(
        line.split()[:1] == ["scenario"] and "travel_distance" in line for line in workflow
    ), workflow  # the `kpis` table's header

    # The page left the `trial` session with its datasets and scenarios.
    trial = "trial"
    tables = as_json(cli(s, "--json", "datasets", session=trial))
    assert tables.get("mine")
    listed_scenarios = as_json(cli(s, "--json", "scenario", "list", session=trial))
    statuses = {x["tag"]: x["status"] for x in listed_scenarios}
    assert statuses == {"abc": "complete", "random": "complete", "long": "failed"}
    rows = as_json(cli(s, "--json", "kpis", session=trial))
    completed = [row for row in rows if row["scenario"] in ("abc", "random")]
    assert {row["scenario"] for row in completed} == {"abc", "random"}
    assert all(isinstance(row["travel_distance"], float) for row in completed)

    compared = as_json(cli(s, "--json", "compare", "random", "abc", session=trial))
    assert [row["scenario"] for row in compared] == ["random", "abc"]
    against = as_json(cli(s, "--json", "compare", "random", "--baseline", "abc", session=trial))
    assert [row["scenario"] for row in against] == ["abc", "random"]
    assert against[0]["baseline"] is True and against[0]["travel_distance.delta"] == 0
    assert against[1]["travel_distance.verdict"] in ("improved", "worse", "equal")
    text = cli(s, "compare", "random", "--baseline", "abc", "--diff-only", session=trial)
    assert text.returncode == 0 and "travel_distance.verdict" in text.stdout.splitlines()[0]
    shown = cli(s, "scenario", "show", "abc", session=trial)
    assert shown.returncode == 0 and "travel_distance" in shown.stdout
    created = as_json(cli(s, "--json", "sessions", "create", "workflow"))
    assert created["display_name"] == "workflow"


def test_a_failed_etl_prints_its_messages_and_exits_1(
    example_server: ServerProcess, tmp_path: Path
) -> None:
    broken = tmp_path / "sku_data.csv"
    broken.write_text("not,the,right,columns\n1,2,3,4\n")
    done = cli(example_server, "upload", "broken", str(broken))
    assert done.returncode == 1
    assert "error" in done.stderr and "nothing stored" in done.stdout
    assert "broken" not in as_json(cli(example_server, "--json", "datasets"))


def test_param_values_are_parsed_against_the_descriptors(example_server: ServerProcess) -> None:
    s = example_server
    ok = cli(
        s,
        "--json",
        "scenario",
        "create",
        "slow2",
        "--dataset",
        "Master data",
        "--algorithm",
        "Slow",
        "--param",
        "duration=2",
    )
    created = as_json(ok)
    assert created["algorithm"]["parameters"][0]["value"] == 2
    for value, words in (("abc", "duration"), ("999", "duration")):
        bad = cli(
            s,
            "scenario",
            "create",
            f"bad-{value}",
            "--dataset",
            "Master data",
            "--algorithm",
            "Slow",
            "--param",
            f"duration={value}",
        )
        assert bad.returncode == 2, (value, bad.stderr)
        assert words in bad.stderr
    unknown = cli(
        s,
        "scenario",
        "create",
        "u",
        "--dataset",
        "Master data",
        "--algorithm",
        "Slow",
        "--param",
        "speed=3",
    )
    assert unknown.returncode == 2 and "speed" in unknown.stderr


def test_wait_exits_1_when_the_run_is_cancelled(example_server: ServerProcess) -> None:
    """`scenario run --wait` follows the run; cancelled from another shell, it ends
    `failed` and the command exits 1."""
    s = example_server
    created = cli(
        s,
        "scenario",
        "create",
        "long",
        "--dataset",
        "Master data",
        "--algorithm",
        "Slow",
        "--param",
        "duration=30",
    )
    assert created.returncode == 0, created.stderr
    env = os.environ | {"ALGOMANCY_URL": s.base, "ALGOMANCY_SESSION": "main"}
    waiting = subprocess.Popen(
        [sys.executable, "-m", "algomancy_api", "scenario", "run", "long", "--wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        scenario_id = as_json(cli(s, "--json", "scenario", "show", "long"))["id"]
        scenario_status(
            lambda path: httpx.get(f"{s.base}{path}"),
            f"/api/v1/sessions/main/scenarios/{scenario_id}",
            {"processing"},
        )
        cancelled = cli(s, "scenario", "cancel", "long")
        assert cancelled.returncode == 0, cancelled.stderr
        out, err = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
    assert waiting.returncode == 1, err
    assert "failed" in out and "cancelled" in err


def test_server_errors_and_unreachable_servers_have_their_exit_codes(
    example_server: ServerProcess,
) -> None:
    missing = cli(example_server, "scenario", "show", "no-such-tag")
    assert missing.returncode == 1 and "404" in missing.stderr
    # A refusal of the server names its request id (the server's log lines carry it).
    refused = cli(
        example_server,
        "scenario",
        "create",
        "x",
        "--dataset",
        "no-such-dataset",
        "--algorithm",
        "ABC slotting",
    )
    assert refused.returncode == 1 and re.search(r"\(request id [0-9a-f]{32}\)", refused.stderr)
    down = cli_process("http://127.0.0.1:9", "datasets")
    assert down.returncode == 3 and "cannot reach" in down.stderr


def test_global_options_are_taken_after_the_command_too(example_server: ServerProcess) -> None:
    s = example_server
    created = as_json(cli(s, "sessions", "create", "after", "--json"))
    assert created["display_name"] == "after"
    made = cli(
        s,
        "scenario",
        "create",
        "late",
        "--dataset",
        "Master data",
        "--algorithm",
        "ABC slotting",
        "--session",
        "after",
        "--json",
    )
    assert as_json(made)["tag"] == "late"
    # Given after the command, --session and --json win over the environment's.
    listed = as_json(cli(s, "scenario", "list", "--json", "--session", "after"))
    assert [x["tag"] for x in listed] == ["late"]
    assert "late" not in cli(s, "scenario", "list").stdout  # the default session's
    down = cli(s, "datasets", "--url", "http://127.0.0.1:9")
    assert down.returncode == 3 and "127.0.0.1:9" in down.stderr


def test_data_param_values_are_parsed_and_checked_like_params(
    example_server: ServerProcess,
) -> None:
    s = example_server

    def create(tag: str, *pairs: str) -> subprocess.CompletedProcess[str]:
        flags = [arg for pair in pairs for arg in ("--data-param", pair)]
        return cli(
            s,
            "--json",
            "scenario",
            "create",
            tag,
            "--dataset",
            "Master data",
            "--algorithm",
            "ABC slotting",
            *flags,
        )

    assert as_json(create("grown", "demand_growth=1.5"))["data_parameters"] == {
        "demand_growth": 1.5
    }
    for tag, pair, words in (
        ("bad-type", "demand_growth=fast", ("--data-param demand_growth", "not a valid float")),
        ("too-big", "demand_growth=99", ("demand_growth", "10")),  # the server's bound
        ("unknown", "speed=3", ("--data-param speed", "no such parameter", "demand_growth")),
        ("no-equals", "demand_growth", ("--data-param", "expected NAME=VALUE")),
    ):
        bad = create(tag, pair)
        assert bad.returncode == 2, (pair, bad.stderr)
        assert all(word in bad.stderr for word in words), bad.stderr
    listed = as_json(cli(s, "--json", "scenario", "list"))
    assert "too-big" not in {x["tag"] for x in listed}


def test_watch_prints_the_sessions_changes(example_server: ServerProcess) -> None:
    s = example_server
    session = as_json(cli(s, "--json", "sessions", "create", "watched"))["display_name"]
    # Live: a watcher started first sees a change made by another client.
    env = os.environ | {"ALGOMANCY_URL": s.base, "ALGOMANCY_SESSION": session}
    command = [sys.executable, "-m", "algomancy_api", "watch", "--count", "1"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as watcher:
        assert watcher.stdout is not None
        opened = watcher.stdout.readline().split()
        assert opened[1] == "open"
        base = f"{s.base}/api/v1/sessions/{session}"
        body = {"tag": "seen", "dataset_key": "Master data", "algo_name": "ABC slotting"}
        scenario_id = httpx.post(f"{base}/scenarios", json=body).json()["id"]
        assert watcher.stdout.readline().split()[1:3] == ["scenario.created", "seen"]
        assert watcher.wait(60) == 0
    httpx.post(f"{base}/scenarios/{scenario_id}/run")
    scenario_status(httpx.get, f"{base}/scenarios/{scenario_id}", {"complete", "failed"})
    # Replayed from an id, until idle: one line per change.
    replayed = cli(s, "watch", "--from", opened[0], "--until-idle", "0.5", session=session)
    assert replayed.returncode == 0, replayed.stderr
    kinds = [line.split()[1] for line in replayed.stdout.splitlines()]
    assert [k for k in kinds if k != "scenario.progress"] == [
        "scenario.created",
        "scenario.queued",
        "scenario.started",
        "scenario.complete",
    ]
    assert "seen (complete 100%)" in replayed.stdout.splitlines()[-1]
    # JSON lines, and a count.
    counted = cli(s, "--json", "watch", "--from", opened[0], "--count", "2", session=session)
    events = [json.loads(line) for line in counted.stdout.splitlines()]
    assert [e["kind"] for e in events] == ["scenario.created", "scenario.queued"]
    assert events[0]["scenario"]["tag"] == "seen"


def test_dataset_versions_and_scenarios_on_a_given_version(example_server: ServerProcess) -> None:
    s = example_server
    assert cli(s, "sessions", "create", "versions").returncode == 0
    files = [str(sample_file("sku_data.csv")), str(sample_file("inventory.xlsx"))]
    first = cli(s, "upload", "week", *files, session="versions")
    assert first.returncode == 0 and "week: stored as version 1" in first.stdout, first.stderr
    # The same files again add no version; a new version comes from other content.
    assert "stored as version 1" in cli(s, "upload", "week", *files, session="versions").stdout
    document = httpx.get(f"{s.base}/api/v1/sessions/versions/data/week").json()
    table = document["tables"]["sku_data"]["data"]
    column = next(c for c, values in table.items() if isinstance(values[0], int | float))
    table[column] = [v + 1 for v in table[column]]
    added = httpx.post(
        f"{s.base}/api/v1/sessions/versions/data/from-json",
        params={"new_version": "true"},
        json=document,
    )
    assert added.status_code == 201, added.text

    def create(tag: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return cli(
            s,
            "--json",
            "scenario",
            "create",
            tag,
            "--dataset",
            "week",
            "--algorithm",
            "ABC slotting",
            *extra,
            session="versions",
        )

    assert as_json(create("old", "--dataset-version", "1"))["dataset_version"] == 1
    assert as_json(create("new"))["dataset_version"] == 2
    missing = create("none", "--dataset-version", "9")
    assert missing.returncode != 0 and "version 9" in missing.stderr
    assert create("zero", "--dataset-version", "0").returncode == 2
    listed = as_json(cli(s, "--json", "datasets", "versions", "week", session="versions"))
    assert [(v["version"], len(v["scenario_ids"])) for v in listed] == [(2, 1), (1, 1)]
    shown = cli(s, "datasets", "versions", "week", session="versions")
    assert shown.returncode == 0 and "version" in shown.stdout and "*" in shown.stdout
    lineage = cli(s, "scenario", "show", "old", session="versions")
    assert "dataset version" in lineage.stdout and "fingerprint" in lineage.stdout
