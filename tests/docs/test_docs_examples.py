"""Every Python and shell example of the docs runs against a real server.

Each page is one test: its runnable blocks (see `tests.docs.blocks`) run in order,
Python blocks in one namespace, shell blocks in one shell state (variables, exports
and the current folder carry over), against a real ``algomancy-api serve`` process
whose address replaces the documented ``http://127.0.0.1:8051`` (ALGOMANCY_URL is set
too). In ``bash``/``sh`` blocks an HTTP error answer fails ``curl`` (and so the
block); ``console`` blocks compare each command's output with the one shown (``...``
stands for any text). A block that fails fails the test; only blocks marked
``<!-- docs-test: skip REASON -->`` are left out.

One server serves every page (pages that start a server of their own, such as the
tutorial's, get that one); before each page the server's sessions are deleted, so
each page starts from a fresh ``main`` session. Pages run in one working folder, the
one the default server was started in (so ``algomancy-data/`` is its state), holding
copies of the files the docs name by relative path (`COPIED`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
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
    blocks,
    console_commands,
    output_matches,
    pages,
    server_command,
)
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

#: The server a page without a server block of its own talks to.
DEFAULT_SERVER = ServerCommand(".", ("--example",))
#: What a page's working folder holds: the files the docs refer to by relative path.
COPIED = ("algomancy_example/data", "docs/tutorial")
#: At most this many blocks may be skipped: a skip is an exception, with a reason.
MAX_SKIPPED = 12
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


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(make_workdir(tmp_path_factory.mktemp("docs-servers")))
    try:
        yield running
    finally:
        running.stop()


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


def runnable_pages() -> list[Path]:
    return [page for page in pages() if any(block.runs for block in blocks(page))]


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


@pytest.mark.parametrize("path", runnable_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(
    path: Path,
    servers: Servers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = servers.get(DEFAULT_SERVER)
    fresh_sessions(server.base)
    page = Page(path, servers.workdir, server.base, tmp_path)
    run_page(page, blocks(path), monkeypatch, servers)


def test_skips_are_few_and_give_reasons() -> None:
    every = [block for page in pages() for block in blocks(page)]
    skipped = [b for b in every if b.directive == "skip"]
    assert all(b.reason for b in skipped)
    assert len(skipped) <= MAX_SKIPPED, [f"{b.where}: {b.reason}" for b in skipped]
    assert sum(b.runs for b in every) > len(skipped)
