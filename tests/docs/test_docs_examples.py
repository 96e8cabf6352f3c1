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

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, ServerCommand, blocks, pages
from tests.docs.runner import Page, Servers, fresh_sessions, make_workdir, run_page

pytestmark = pytest.mark.slow

#: The server a page without a server block of its own talks to.
DEFAULT_SERVER = ServerCommand(".", ("--example",))
#: At most this many blocks may be skipped: a skip is an exception, with a reason.
MAX_SKIPPED = 13
#: Pages another test runs with `tests.docs.runner` (and then checks what their
#: commands did), so that their workflow runs once in the suite: page -> that test.
CLI_WORKFLOW = "tests/cli/test_cli_commands.py::test_the_documented_workflow"
RUN_ELSEWHERE = {ROOT / "docs" / "command-line.md": CLI_WORKFLOW}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = Servers(make_workdir(tmp_path_factory.mktemp("docs-servers")))
    try:
        yield running
    finally:
        running.stop()


def runnable_pages() -> list[Path]:
    return [
        page
        for page in pages()
        if page not in RUN_ELSEWHERE and any(block.runs for block in blocks(page))
    ]


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


def test_pages_left_to_other_tests_are_run_there() -> None:
    """Each page the docs test leaves out is run, as a whole, by the test named."""
    import tests.cli.test_cli_commands as cli_test

    assert set(RUN_ELSEWHERE) == {cli_test.COMMAND_LINE_PAGE}
    for page, test in RUN_ELSEWHERE.items():
        module, _, name = test.partition("::")
        assert module == "tests/cli/test_cli_commands.py", test
        source = inspect.getsource(getattr(cli_test, name))
        assert "run_page(" in source and "COMMAND_LINE_PAGE" in source, test
        assert any(block.runs for block in blocks(page)), page
