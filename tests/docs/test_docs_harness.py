"""The docs test's own rules: what it runs, what it skips, and that a failing example
fails it (on pages made up here, so no server is needed)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.docs.blocks import (
    Block,
    DocsFormatError,
    blocks,
    console_commands,
    output_matches,
    server_command,
)
from tests.docs.runner import Page, run_page

FENCE = "```"


def page_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text.replace("'''", FENCE))
    return path


def run(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Page:
    path = page_file(tmp_path, text)
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    page = Page(path, tmp_path, "http://127.0.0.1:9", scratch)
    run_page(page, blocks(path), monkeypatch)
    return page


def test_blocks_read_languages_directives_and_lines(tmp_path: Path) -> None:
    path = page_file(
        tmp_path,
        "# T\n\n'''python\nx = 1\n'''\n\n<!-- docs-test: skip installs things -->\n\n"
        "'''bash\npip install x\n'''\n'''json\n{}\n'''\n",
    )
    found = blocks(path)
    assert [(b.line, b.language, b.directive, b.reason, b.runs) for b in found] == [
        (3, "python", None, "", True),
        (9, "bash", "skip", "installs things", False),
        (12, "json", None, "", False),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "'''\nplain\n'''\n",  # no language
        "<!-- docs-test: skip -->\n'''bash\ntrue\n'''\n",  # no reason
        "<!-- docs-test: ignore me -->\n'''bash\ntrue\n'''\n",  # unknown directive
        "<!-- docs-test: skip why -->\ntext between\n'''bash\ntrue\n'''\n",
        "'''bash\ntrue\n",  # not closed
    ],
)
def test_ambiguous_pages_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(DocsFormatError):
        blocks(page_file(tmp_path, text))


def test_a_failing_shell_block_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"page.md:1: exit 3"):
        run(tmp_path, "'''bash\ntrue\n(exit 3)\necho never\n'''\n", monkeypatch)


def test_a_failing_python_block_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"page\.md:3: ZeroDivisionError"):
        run(tmp_path, "x\n\n'''python\n1 / 0\n'''\n", monkeypatch)


@pytest.fixture
def not_found_server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server whose every path but / is a 404."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_http_error_fails_a_shell_block_but_not_a_shown_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, not_found_server: str
) -> None:
    missing = f"curl -s {not_found_server}/missing"
    with pytest.raises(pytest.fail.Exception, match="exit 22"):
        run(tmp_path, f"'''bash\n{missing}\n'''\n", monkeypatch)
    shown = f"$ {missing} -o /dev/null -w '%{{http_code}}\\n'\n404\n"
    run(tmp_path, f"'''console\n{shown}'''\n", monkeypatch)


def test_skipped_blocks_do_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(tmp_path, "<!-- docs-test: skip a demo -->\n'''bash\nfalse\n'''\n", monkeypatch)


def test_blocks_of_a_page_share_their_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    page = run(
        tmp_path,
        "'''bash\nN=41\nexport E=x\ncd sub\n'''\n'''sh\n[ $((N + 1)) = 42 ] && [ $E = x ]\n"
        "touch here\n'''\n'''python\nvalue = 1\n'''\n'''py\nassert value == 1\n"
        "import os\nassert os.environ['ALGOMANCY_URL'] == 'http://127.0.0.1:9'\n'''\n",
        monkeypatch,
    )
    assert (tmp_path / "sub" / "here").exists() and page.cwd == tmp_path / "sub"


def test_console_output_is_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(tmp_path, "'''console\n$ echo a b c\na ... c\n$ true\n'''\n", monkeypatch)
    with pytest.raises(pytest.fail.Exception, match="but the page shows"):
        run(tmp_path, "'''console\n$ echo 201\n200\n'''\n", monkeypatch)


def test_console_commands_and_output() -> None:
    path = Path("docs/x.md").resolve()
    block = Block(path, 1, "console", "$ a \\\n  b\nout\n\n$ c\n")
    assert [(c.command, c.expected) for c in console_commands(block)] == [
        ("a \\\n  b", "out"),
        ("c", ""),
    ]
    assert output_matches('{"id": "...", "x": 1}', '{"id": "abc", "x": 1}\n')
    assert not output_matches('{"x": 1}', '{"x": 2}')


def test_server_blocks_give_folder_and_arguments(tmp_path: Path) -> None:
    path = page_file(
        tmp_path,
        "<!-- docs-test: server -->\n'''bash\ncd docs/tutorial\n"
        "algomancy-api serve --config bakery.api:config  # serves\n'''\n",
    )
    command = server_command(blocks(path)[0])
    assert (command.folder, command.args) == ("docs/tutorial", ("--config", "bakery.api:config"))
