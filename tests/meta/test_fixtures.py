"""The suite's own infrastructure: fixtures come from the repository, and a missing
one fails the run instead of skipping."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.fixtures import (
    TABULAR_FRAME_V1,
    TABULAR_FRAME_V1_SCHEMA,
    TESTS,
    MissingFixtureError,
    fixture_file,
    fixture_files,
)
from tests.polling import wait_for
from tests.server import port_taken_message


def test_the_tabular_frame_contract_ships_with_its_licence() -> None:
    assert "Apache License" in fixture_file(TABULAR_FRAME_V1 / "LICENSE").read_text()
    schema = json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert len(fixture_files(TABULAR_FRAME_V1 / "valid")) == 3
    assert len(fixture_files(TABULAR_FRAME_V1 / "invalid")) == 4


def test_a_missing_fixture_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MissingFixtureError, match="missing"):
        fixture_file(TESTS / "contracts" / "no-such-file.json")
    with pytest.raises(MissingFixtureError, match="no test fixtures"):
        fixture_files(TESTS / "contracts" / "no-such-folder")


def test_a_fixture_outside_the_repository_is_an_error() -> None:
    with pytest.raises(MissingFixtureError, match="outside"):
        fixture_file(TESTS.parent.parent / "shared" / "contracts" / "README.md")


def test_wait_for_returns_the_first_value_that_is_done() -> None:
    values = iter([1, 2, 3, 4])
    assert wait_for(lambda: next(values), lambda v: v >= 3, interval=0) == 3


def test_wait_for_fails_the_test_with_the_last_value() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"the answer not reached.*last value: 0"):
        wait_for(lambda: 0, timeout=0, interval=0, what="the answer")


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_a_taken_port_is_named_with_its_process_and_what_to_do(
    family: socket.AddressFamily,
) -> None:
    """What tests/e2e/test_e2e_seed_samples.py says when 8051 is taken, on a port this
    test occupies itself (so it runs beside any other server)."""
    with socket.socket(family) as sock:
        sock.bind(("127.0.0.1" if family == socket.AF_INET else "::", 0))
        sock.listen()
        port = sock.getsockname()[1]
        message = port_taken_message(port)
        assert message is not None
        assert f"port {port} is taken by process {os.getpid()} (" in message
        assert f"kill {os.getpid()}" in message and "stop it" in message
        assert f"http://127.0.0.1:{port}" in message and "run them again" in message
    assert port_taken_message(port) is None  # free again once closed


def test_a_port_held_by_an_unseen_process_says_how_to_find_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tests.server

    monkeypatch.setattr(tests.server, "port_holders", lambda port: [])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        message = port_taken_message(port)
    assert message is not None
    assert "a process this user cannot see" in message
    assert f"ss -ltnp 'sport = :{port}'" in message and "stop it" in message
