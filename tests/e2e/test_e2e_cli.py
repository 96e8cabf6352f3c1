"""`algomancy-api serve` as a user runs it: `--config` from the current folder, and
the server's own log lines (`--log-level`, `--log-format`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from algomancy_api import cli
from tests.polling import scenario_status, wait_for
from tests.server import ServerProcess

#: Real server and CLI processes.
pytestmark = pytest.mark.slow

#: The installed console script, next to this interpreter.
SCRIPT = Path(sys.executable).with_name("algomancy-api")

DOMAIN = """\
import pandas as pd

from algomancy_api import ApiConfiguration
from algomancy_core import BaseAlgorithm, BaseParameterSet, BaseResult, IntegerParameter
from algomancy_data import Column, DataSource, Schema


class Parameters(BaseParameterSet):
    n = IntegerParameter(default=1)


class Echo(BaseAlgorithm):
    name = "Echo"
    parameters = Parameters

    def run(self, data, ctx):
        return BaseResult({"n": self.params.n})


cfg = ApiConfiguration(
    title="My domain",
    algorithms=[Echo],
    schemas=[Schema("items", extension="csv", columns=[Column("qty", "integer")])],
    initial_datasets=lambda: {"d": DataSource("d", tables={"t": pd.DataFrame({"a": [1]})})},
    has_persistent_state=True,
    data_path="state",
)
"""


def user_env() -> dict[str, str]:
    """The environment of a user who installed the package: no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "mymodule.py").write_text(textwrap.dedent(DOMAIN))
    return tmp_path


def serve(project: Path, *flags: str) -> ServerProcess:
    command = [str(SCRIPT), "serve", "--config", "mymodule:cfg", "--port", "{port}", *flags]
    server = ServerProcess([], project, command=command)
    server.env = user_env()
    return server


def test_config_module_in_the_current_folder_is_found(project: Path) -> None:
    assert SCRIPT.exists(), SCRIPT
    with serve(project) as server:
        health = httpx.get(f"{server.base}/health").json()
        assert health["status"] == "ok"
        algorithms = httpx.get(f"{server.base}/api/v1/sessions/main/algorithms").json()
        assert "Echo" in json.dumps(algorithms)
    log = server.log()
    assert "INFO    algomancy.api: serving My domain under /api/v1" in log
    assert f"store: SQLStore (sqlite:///{project.resolve() / 'state'}" in log
    assert f"data path: {project.resolve() / 'state'}" in log
    assert "executor: thread, up to 2 runs at once" in log
    assert "authentication: off" in log


def test_a_missing_config_module_fails_with_a_hint(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "serve", "--config", "nothere:cfg", "--port", "0"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot import 'nothere'" in done.stderr
    assert f"looked in the current folder {tmp_path}" in done.stderr
    assert "PYTHONPATH" in done.stderr


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of `text` as JSON; fails on a line that is not."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_log_lines_for_startup_runs_and_etl_failures(project: Path) -> None:
    server = serve(project, "--log-format", "json").start()
    try:
        api = f"{server.base}/api/v1/sessions/main"
        body = {"tag": "t", "dataset_key": "d", "algo_name": "Echo", "algo_params": {"n": 4}}
        scenario_id = httpx.post(f"{api}/scenarios", json=body).json()["id"]
        httpx.post(f"{api}/scenarios/{scenario_id}/run")
        assert scenario_status(httpx.get, f"{api}/scenarios/{scenario_id}", {"complete"})
        bad = [("files", ("items.csv", b"qty\nnot a number\n", "text/csv"))]
        # The first upload starts the ETL child process (it imports pandas): more than
        # httpx's 5 s default on a loaded machine (seen at load 16).
        etl = httpx.post(f"{api}/etl", data={"dataset_name": "up"}, files=bad, timeout=60).json()
        assert etl["success"] is False

        def logged(event: str) -> list[dict[str, Any]]:
            return [e for e in json_lines(server.log()) if e.get("event") == event]

        ended = wait_for(lambda: logged("run-ended"), what="the run's end in the log")
        etl_failed = wait_for(lambda: logged("etl-failed"), what="the ETL failure in the log")
    finally:
        server.stop()
    entries = json_lines(server.log())  # every line is JSON, uvicorn's too
    assert {e["logger"] for e in entries} >= {"algomancy.api", "uvicorn.error"}
    messages = [e["message"] for e in entries if e["logger"] == "algomancy.api"]
    assert any(m.startswith("store: SQLStore") for m in messages)
    assert "authentication: off (every caller is anonymous)" in messages
    started = [e for e in entries if e.get("event") == "run-started"]
    assert [e["scenario_id"] for e in started] == [scenario_id]
    assert started[0]["level"] == "INFO" and "algorithm 'Echo'" in started[0]["message"]
    assert ended[0]["scenario_id"] == scenario_id and ended[0]["status"] == "complete"
    assert etl_failed[0]["level"] == "WARNING" and etl_failed[0]["dataset"] == "up"
    assert "'up'" in etl_failed[0]["message"] and "1 error" in etl_failed[0]["message"]
    assert all(e["time"].endswith("+00:00") for e in entries)


def test_log_level_and_format_reach_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--log-level`/`--log-format` configure our loggers and uvicorn's."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(os, "environ", dict(os.environ))
    # Leave this process's logging alone: the server process is where it applies.
    monkeypatch.setattr("logging.config.dictConfig", lambda config: seen.update(applied=config))
    assert (
        cli.main(
            ["serve", "--example", "--in-memory", "--log-level", "warning", "--log-format", "json"]
        )
        == 0
    )
    assert seen["log_level"] == "warning"
    config = seen["log_config"]
    assert seen["applied"] == config
    assert config["loggers"]["algomancy"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn"]["level"] == "WARNING"
    assert config["formatters"]["default"]["()"].__name__ == "JsonFormatter"


def test_log_level_filters_our_lines() -> None:
    """Under `warning`, a run's info lines are dropped and warnings kept."""
    script = textwrap.dedent(
        """
        import logging, logging.config
        from algomancy_api.logs import logging_config
        logging.config.dictConfig(logging_config("warning", "text"))
        logging.getLogger("algomancy.dispatcher").info("run started")
        logging.getLogger("algomancy.scenarios").warning("ETL failed")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "ETL failed" in done.stderr and "run started" not in done.stderr


def test_bad_log_level_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--example", "--log-level", "loud"])
    assert exit_.value.code == 2
    assert "--log-level" in capsys.readouterr().err
