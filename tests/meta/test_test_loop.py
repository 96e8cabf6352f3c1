"""The test loop itself: the README's command runs the suite in parallel and CI runs
that command; what starts real processes is marked `slow`, so the fast loop
(`pytest -m "not slow" -n auto`) leaves it out."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import marks
from tests.conftest import pytest_collection_modifyitems

ROOT = Path(__file__).resolve().parents[2]


def readme_test_command() -> str:
    first_block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert first_block is not None
    (command,) = [line for line in first_block.group(1).splitlines() if "pytest" in line]
    return command


def test_the_readme_runs_the_suite_in_parallel_and_ci_runs_the_readme_command() -> None:
    command = readme_test_command()
    assert command.endswith(".venv/bin/pytest -n auto"), command
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci, "`.ci/run` must run the README's test command as written there"


def test_the_fast_loop_is_documented() -> None:
    testing = (ROOT / "docs" / "testing.md").read_text()
    assert 'pytest -m "not slow" -n auto' in testing
    assert readme_test_command().split(" && ")[-1].removeprefix(".venv/bin/") in testing


def test_a_test_that_starts_a_process_without_the_slow_mark_fails_saying_so(
    request: pytest.FixtureRequest,
) -> None:
    assert marks.current is request.node
    with pytest.raises(pytest.fail.Exception) as failed:
        marks.require_slow("a server process")
    message = str(failed.value)
    assert request.node.nodeid in message and "starts a server process" in message
    assert "@pytest.mark.slow" in message and 'pytest -m "not slow"' in message


def test_a_slow_test_may_start_one(request: pytest.FixtureRequest) -> None:
    request.node.add_marker(pytest.mark.slow)
    marks.require_slow("a server process")  # does not fail


def test_outside_a_test_nothing_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmarks and scripts start `tests.server.ServerProcess` outside pytest."""
    monkeypatch.setattr(marks, "current", None)
    marks.require_slow("a server process")  # does not fail


class Item:
    """What the collection hook reads of a test item."""

    def __init__(self, fixturenames: list[str], *markers: str) -> None:
        self.fixturenames = fixturenames
        self.markers = set(markers)

    def get_closest_marker(self, name: str) -> object:
        return name if name in self.markers else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.add(marker.name)


def test_postgresql_tests_are_slow() -> None:
    marked = Item(["postgres_url"], "postgres")
    using = Item(["postgres_url", "postgres_server"])
    other = Item(["tmp_path"])
    serial = SimpleNamespace()  # not an xdist worker: the order stays
    pytest_collection_modifyitems(serial, [marked, using, other])  # type: ignore[arg-type]
    assert "slow" in marked.markers and "slow" in using.markers
    assert "slow" not in other.markers


class FileItem(Item):
    def __init__(self, path: str, name: str, slow: bool) -> None:
        super().__init__([], *(["slow"] if slow else []))
        self.path = Path(path)
        self.name = name


def test_under_xdist_the_files_with_most_slow_tests_come_first() -> None:
    items = [
        FileItem("a.py", "a1", False),
        FileItem("a.py", "a2", False),
        FileItem("b.py", "b1", True),
        FileItem("b.py", "b2", False),
        FileItem("c.py", "c1", True),
        FileItem("c.py", "c2", True),
        FileItem("d.py", "d1", False),
    ]
    marks.slow_files_first(items)  # type: ignore[arg-type]
    assert [i.name for i in items] == ["c1", "c2", "b1", "b2", "a1", "a2", "d1"]
