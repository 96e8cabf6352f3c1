"""The suite's own infrastructure: fixtures come from the repository, and a missing
one fails the run instead of skipping."""

from __future__ import annotations

import json
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
