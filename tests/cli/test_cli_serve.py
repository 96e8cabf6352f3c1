"""The command line's frame: `serve` keeps its flags, global options, shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from algomancy_api import cli

#: Most tests run the command line as a process.
pytestmark = pytest.mark.slow


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "algomancy_api", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | (env or {}),
    )


def test_serve_flags_parse_to_the_same_options() -> None:
    flags = "--config m:c --host 0.0.0.0 --port 9000 --workers 2 --data-path d"
    flags += " --executor process --dask-address tcp://x:1 --max-workers 3 --no-ui"
    options = cli.parse_serve([*flags.split(), "--log-level", "debug", "--log-format", "json"])
    assert options == cli.ServeOptions(
        config="m:c",
        host="0.0.0.0",
        port=9000,
        workers=2,
        data_path="d",
        executor="process",
        dask_address="tcp://x:1",
        max_workers=3,
        no_ui=True,
        log_level="debug",
        log_format="json",
    )
    assert cli.overrides_from(options)["has_persistent_state"] is True
    memory = cli.overrides_from(cli.parse_serve(["--example", "--in-memory"]))
    assert memory["has_persistent_state"] is False and memory["database_url"] is None


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "exactly one of --example and --config"),
        (["--example", "--config", "m:c"], "exactly one of --example and --config"),
        (["--example", "--in-memory", "--database-url", "x"], "exclude each other"),
        (["--example", "--executor", "fork"], "--executor"),
    ],
)
def test_bad_serve_usage_exits_2(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", *flags])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_commands_and_exit_codes() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "serve" in done.stdout and "Exit codes:" in done.stdout
    assert "ALGOMANCY_URL" in done.stdout and "ALGOMANCY_SESSION" in done.stdout


def test_shell_completion_offers_commands_and_choices() -> None:
    words = {"_ALGOMANCY_API_COMPLETE": "bash_complete", "COMP_CWORD": "1"}
    done = run(env=words | {"COMP_WORDS": "algomancy-api se"})
    assert "plain,serve" in done.stdout.splitlines()
    words["COMP_CWORD"] = "3"
    done = run(env=words | {"COMP_WORDS": "algomancy-api serve --log-level "})
    assert {"plain,debug", "plain,info"} <= set(done.stdout.splitlines())
    script = run(env={"_ALGOMANCY_API_COMPLETE": "bash_source"})
    assert "complete " in script.stdout and "_algomancy_api_completion" in script.stdout


def test_server_processes_freeze_what_they_hold_for_good(tmp_path: Path) -> None:
    """The app factory of `serve` (and of gunicorn) moves the objects built at start
    out of the garbage collector's sight, so that a full collection under load walks
    only what came after (it held the event loop for ~100 ms each second)."""
    code = (
        "import gc, json; from algomancy_api.cli import app_from_environment; "
        "before = gc.get_freeze_count(); app_from_environment(); "
        "print(json.dumps([before, gc.get_freeze_count()]))"
    )
    env = {
        cli.ENV_SPEC: cli.EXAMPLE,
        cli.ENV_OVERRIDES: json.dumps({"has_persistent_state": False}),
        cli.ENV_APP_DIR: str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == 0 and after > 10_000
