"""Running a documentation page's blocks, as the docs test does (`tests.docs.blocks`
reads them): the page's working folder, its Python namespace and shell state, and the
servers the pages talk to. `tests/docs/test_docs_examples.py` runs every page with it;
`tests/cli/test_cli_commands.py` runs the command-line page (the CLI workflow) with it,
then checks what the commands did.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import httpx
import pytest

from tests.docs.blocks import (
    CONSOLE,
    DOCUMENTED_URL,
    PYTHON,
    ROOT,
    SHELL,
    Block,
    ServerCommand,
    console_commands,
    output_matches,
    server_command,
)
from tests.server import ServerProcess

#: What a page's working folder holds: the files the docs refer to by relative path.
COPIED = ("algomancy_example/data", "docs/tutorial")
COMMAND_TIMEOUT = 180

# `set -a`: every variable a block assigns is exported, so the epilogue saves it.
PRELUDE = """\
set -a
if [ -f "$DOCS_STATE" ]; then . "$DOCS_STATE"; fi
cd "$(cat "$DOCS_CWD")"
curl() {
  if [ -n "${DOCS_PLAIN_CURL:-}" ]; then command curl "$@"
  else command curl --fail-with-body "$@"; fi
}
set -euo pipefail
"""
EPILOGUE = """
export -p | grep -v -e '^declare -x DOCS_' -e '^declare -x ALGOMANCY_URL=' \
  -e '^declare -x PWD=' -e '^declare -x OLDPWD=' > "$DOCS_STATE"
pwd > "$DOCS_CWD"
"""


def make_workdir(folder: Path) -> Path:
    for relative in COPIED:
        shutil.copytree(
            ROOT / relative, folder / relative, ignore=shutil.ignore_patterns("__pycache__")
        )
    return folder


class Servers:
    """The servers the pages need, one per command, started on first use."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: dict[ServerCommand, ServerProcess] = {}

    def get(self, command: ServerCommand) -> ServerProcess:
        if command not in self.started:
            args: list[str] = []
            words = iter(command.args)
            for word in words:
                if word in ("--host", "--port"):
                    next(words, None)  # ServerProcess binds 127.0.0.1 on a free port
                else:
                    args.append(word)
            cwd = self.workdir / command.folder
            self.started[command] = ServerProcess(args, cwd).start()
        return self.started[command]

    def stop(self) -> None:
        for server in self.started.values():
            server.stop()


def fresh_sessions(base: str) -> None:
    """Delete every session; the server replaces the last one by a fresh `main`."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as http:
        for session in http.get("/sessions").raise_for_status().json()["sessions"]:
            http.delete(f"/sessions/{session['id']}").raise_for_status()


class Page:
    """One page's run: a working folder, a Python namespace and a shell state."""

    def __init__(self, path: Path, workdir: Path, base: str, scratch: Path) -> None:
        self.path = path
        self.workdir = workdir
        self.base = base
        self.state = scratch / "shell-state"
        self.cwd_file = scratch / "shell-cwd"
        self.cwd_file.write_text(str(workdir))
        self.module = types.ModuleType(f"docs_page_{abs(hash(path))}")
        self.module.__file__ = str(path)
        self.env = os.environ | {
            "ALGOMANCY_URL": base,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            # Output in the order the program wrote it (console blocks show both streams).
            "PYTHONUNBUFFERED": "1",
            "DOCS_STATE": str(self.state),
            "DOCS_CWD": str(self.cwd_file),
        }
        for name in ("ALGOMANCY_SESSION", "ALGOMANCY_API_KEY"):
            self.env.pop(name, None)
        #: (script or console command, its output) of every shell run, in order.
        self.printed: list[tuple[str, str]] = []

    def talk_to(self, base: str) -> None:
        self.base = base
        self.env["ALGOMANCY_URL"] = base

    @property
    def cwd(self) -> Path:
        return Path(self.cwd_file.read_text().strip())

    def code(self, block: Block) -> str:
        return block.expanded().replace(DOCUMENTED_URL, self.base)

    def change_folder(self, folder: str) -> None:
        self.cwd_file.write_text(str((self.cwd / folder).resolve()))

    def shell(self, script: str, where: str, console: bool = False, shown: bool = False) -> str:
        """Run `script` in the page's shell state; its output. In a console, stderr is
        part of the output; when the page shows the output, curl answers as it is
        (an HTTP error is then what the page shows, not a failure)."""
        env = self.env | ({"DOCS_PLAIN_CURL": "1"} if shown else {})
        done = subprocess.run(
            ["bash", "-c", PRELUDE + script + EPILOGUE],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if console else subprocess.PIPE,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if done.returncode != 0:
            pytest.fail(
                f"{where}: exit {done.returncode}\n--- script\n{script}\n--- stdout\n"
                f"{done.stdout}\n--- stderr\n{done.stderr}",
                pytrace=False,
            )
        self.printed.append((script, done.stdout))
        return done.stdout

    def python(self, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
        namespace = self.module.__dict__
        sys.modules[self.module.__name__] = self.module
        with monkeypatch.context() as patch:
            for name, value in self.env.items():
                if os.environ.get(name) != value:
                    patch.setenv(name, value)
            for name in ("ALGOMANCY_SESSION", "ALGOMANCY_API_KEY"):
                patch.delenv(name, raising=False)
            patch.chdir(self.cwd)
            patch.syspath_prepend(str(self.cwd))
            try:
                exec(compile(self.code(block), block.where, "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{block.where}: {type(exc).__name__}: {exc}", pytrace=True)

    def console(self, block: Block) -> None:
        for command in console_commands(block):
            script = command.command.replace(DOCUMENTED_URL, self.base)
            actual = self.shell(script, block.where, True, bool(command.expected))
            if command.expected and not output_matches(command.expected, actual):
                pytest.fail(
                    f"{block.where}: `{command.command}` printed\n{actual}\n"
                    f"--- but the page shows\n{command.expected}",
                    pytrace=False,
                )


def run_page(
    page: Page,
    page_blocks: list[Block],
    monkeypatch: pytest.MonkeyPatch,
    servers: Servers | None = None,
) -> None:
    """Run the page's blocks in order; the first that fails fails the test. A server
    block starts its server (in the folder the page's shell is in, plus the block's
    `cd`), and the blocks after it talk to that server."""
    try:
        for block in page_blocks:
            if block.directive == "server":
                if servers is None:
                    pytest.fail(f"{block.where}: no servers to start", pytrace=False)
                command = server_command(block)
                page.change_folder(command.folder)
                folder = page.cwd.relative_to(servers.workdir.resolve())
                server = servers.get(ServerCommand(str(folder), command.args))
                fresh_sessions(server.base)
                page.talk_to(server.base)
            elif not block.runs:
                continue
            elif block.language in PYTHON:
                page.python(block, monkeypatch)
            elif block.language in SHELL:
                page.shell(page.code(block), block.where)
            elif block.language in CONSOLE:
                page.console(block)
    finally:
        sys.modules.pop(page.module.__name__, None)
