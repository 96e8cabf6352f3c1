"""The code blocks of the documentation pages, as the docs test runs them.

A page's fenced blocks are read in order. Blocks in ``python`` (or ``py``) and in a
shell language (``bash``, ``sh``, ``shell``, ``console``) are run; other languages
(``json``, ``text``, ``nginx``, ...) are shown, not run. An HTML comment on the line
before a block (blank lines allowed) says how the test treats it:

- ``<!-- docs-test: skip REASON -->``: not run, for the reason given (installing,
  deploying, a path only a reader's machine has). The reason is required.
- ``<!-- docs-test: server -->``: the block starts the server the page's other blocks
  talk to (``cd DIR`` lines, then ``algomancy-api serve ARGS``). The test starts that
  server itself, with these arguments, on a free port.

A line ``--8<-- "path"`` (pymdownx.snippets, as the site shows it) stands for the
file at that path, relative to the repository root.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: The address the pages write; the test puts the real server's in its place.
DOCUMENTED_URL = "http://127.0.0.1:8051"

PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh", "shell"})
CONSOLE = frozenset({"console"})
RUN = PYTHON | SHELL | CONSOLE

FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>\w[\w-]*)\s*(?P<arg>.*?)\s*-->\s*$")
SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')


class DocsFormatError(ValueError):
    """A page the test cannot read unambiguously (an unknown directive, a skip without
    a reason, an unclosed fence, a fence without a language)."""


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    directive: str | None = None  # "skip" or "server"
    reason: str = ""

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUN and self.directive != "skip"

    def expanded(self) -> str:
        """The code with snippet lines replaced by the files they name."""
        lines = []
        for line in self.code.splitlines(keepends=True):
            match = SNIPPET.match(line)
            if match is None:
                lines.append(line)
                continue
            path = ROOT / match.group("path")
            if not path.is_file():
                raise DocsFormatError(f"{self.where}: snippet {path} does not exist")
            lines.append(path.read_text(encoding="utf-8"))
        return "".join(lines)


def pages() -> list[Path]:
    """Every page of the site, and the README."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of `page`, in order, with their directives."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    pending: tuple[str, str] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        directive = DIRECTIVE.match(line)
        if directive:
            kind, arg = directive.group("kind"), directive.group("arg")
            if kind not in ("skip", "server"):
                raise DocsFormatError(f"{page}:{index + 1}: unknown docs-test directive {kind!r}")
            if kind == "skip" and not arg:
                raise DocsFormatError(f"{page}:{index + 1}: a skip needs a reason")
            pending = (kind, arg)
            index += 1
            continue
        fence = FENCE.match(line)
        if fence is None:
            if line.strip() and pending is not None:
                raise DocsFormatError(
                    f"{page}:{index + 1}: a docs-test directive must come right before a block"
                )
            index += 1
            continue
        opening, indent = fence.group("fence"), len(fence.group("indent"))
        info = fence.group("info").strip()
        language = info.split()[0].lstrip(".").lower() if info else ""
        if not language:
            raise DocsFormatError(
                f"{page}:{index + 1}: a block without a language (write ```text for "
                "text that is not run)"
            )
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(opening[0] * len(opening)) and set(closing) == {opening[0]}:
                break
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        else:
            raise DocsFormatError(f"{page}:{index}: a block is not closed")
        kind, reason = pending if pending else (None, "")
        found.append(Block(page, index - len(body), language, "\n".join(body) + "\n", kind, reason))
        pending = None
        index += 1
    return found


@dataclass(frozen=True)
class ServerCommand:
    """What a ``docs-test: server`` block starts: ``serve`` arguments, in a folder."""

    folder: str  # relative to the page's working folder
    args: tuple[str, ...]


def server_command(block: Block) -> ServerCommand:
    folder = Path(".")
    for raw in block.code.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        if words[0] == "cd" and len(words) == 2:
            folder = folder / words[1]
        elif words[:2] == ["algomancy-api", "serve"]:
            return ServerCommand(str(folder), tuple(words[2:]))
        else:
            raise DocsFormatError(f"{block.where}: a server block holds `cd` and `serve` only")
    raise DocsFormatError(f"{block.where}: a server block needs an `algomancy-api serve` line")


@dataclass(frozen=True)
class ConsoleCommand:
    """A ``$ command`` of a console block and the output shown under it."""

    command: str
    expected: str


def console_commands(block: Block) -> list[ConsoleCommand]:
    commands: list[ConsoleCommand] = []
    lines = block.code.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            if line.strip():
                raise DocsFormatError(f"{block.where}: output before the first `$ ` command")
            index += 1
            continue
        command = [line[2:]]
        while command[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            command.append(lines[index])
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        commands.append(ConsoleCommand("\n".join(command), "\n".join(output).strip("\n")))
    return commands


def output_matches(expected: str, actual: str) -> bool:
    """`actual` is `expected`, where ``...`` stands for any text (lines compared without
    trailing blanks)."""

    def tidy(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())

    pattern = ".*?".join(re.escape(part) for part in tidy(expected).split("..."))
    return re.fullmatch(pattern, tidy(actual), re.DOTALL) is not None
