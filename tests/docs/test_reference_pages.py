"""The reference pages name everything there is: every configuration field and
`serve` flag (docs/configuration.md), every command and global option of the
command line (docs/command-line.md)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import click
import pytest

from algomancy_api import ApiConfiguration
from algomancy_api.cli.app import app
from algomancy_api.cli.serve import serve
from tests.docs.blocks import DOCS

CONFIGURATION = (DOCS / "configuration.md").read_text(encoding="utf-8")
COMMAND_LINE = (DOCS / "command-line.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ApiConfiguration)])
def test_every_configuration_field_is_in_the_reference(field: str) -> None:
    assert re.search(rf"^\|\s*`{field}`", CONFIGURATION, re.MULTILINE), field


@pytest.mark.parametrize("flag", [o for p in serve.params for o in p.opts])
def test_every_serve_flag_is_in_the_reference(flag: str) -> None:
    assert re.search(rf"`{re.escape(flag)}\b", CONFIGURATION), flag


def commands(group: click.Group, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        yield path
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} ")


@pytest.mark.parametrize("command", [c for c in commands(app) if c != "serve"])
def test_every_command_is_on_the_command_line_page(command: str) -> None:
    assert re.search(rf"\|\s*`{re.escape(command)}\b", COMMAND_LINE), command


@pytest.mark.parametrize("option", [o for p in app.params for o in p.opts if o.startswith("--")])
def test_every_global_option_is_on_the_command_line_page(option: str) -> None:
    assert re.search(rf"\|\s*`{re.escape(option)}`", COMMAND_LINE), option
