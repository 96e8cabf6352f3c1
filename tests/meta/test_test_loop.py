"""The test loop itself: the README's command runs the suite in parallel and CI runs
that command; what starts real processes is marked `slow`, so the fast loop
(`pytest -m "not slow" -n auto`) leaves it out."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import marks, nodeids
from tests.conftest import pytest_collection_modifyitems, pytest_xdist_auto_num_workers

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


def test_auto_runs_a_worker_more_than_the_cores_unless_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Tests waiting on servers leave a core idle: `-n auto` fills it (tests/conftest.py)."""
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert pytest_xdist_auto_num_workers(request.config) == cores + 1
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "2")
    assert pytest_xdist_auto_num_workers(request.config) is None  # xdist reads it


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
        self.nodeid = f"tests/t.py::test_{id(self)}"

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


class OperationItem:
    """A schemathesis item as pytest 9.2 makes it: its name has the operation, its id
    not."""

    def __init__(self, function: str, label: str | None) -> None:
        from _pytest.nodeid import NodeId

        self.operation_label = label
        self.name = f"{function}[{label}]" if label else function
        self._id = NodeId.parse(f"tests/api/test_x.py::{function}")

    @property
    def nodeid(self) -> str:
        return str(self._id)


def test_each_operation_gets_an_id_of_its_own() -> None:
    items = [
        OperationItem("test_schema", "GET /a"),
        OperationItem("test_schema", "POST /a/{id}"),
        OperationItem("test_other", None),
    ]
    nodeids.give_operations_their_ids(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "tests/api/test_x.py::test_schema[GET /a]",
        "tests/api/test_x.py::test_schema[POST /a/{id}]",
        "tests/api/test_x.py::test_other",
    ]
    nodeids.refuse_repeated_ids(items)  # type: ignore[arg-type]


def test_ids_shared_by_several_tests_stop_the_run() -> None:
    """Without the ids of `give_operations_their_ids`, xdist ran one operation."""
    items = [OperationItem("test_schema", "GET /a"), OperationItem("test_schema", "GET /b")]
    with pytest.raises(pytest.UsageError, match=r"1 test ids .*test_schema\): under -n"):
        nodeids.refuse_repeated_ids(items)  # type: ignore[arg-type]


def test_the_schemathesis_tests_have_one_id_per_operation(request: pytest.FixtureRequest) -> None:
    """The real items, when this run collected them (as the README's command does)."""
    ours = [i for i in request.session.items if i.path.name == "test_api_schemathesis.py"]
    labelled = [i for i in ours if getattr(i, "operation_label", None)]
    if not labelled:
        pytest.skip("tests/api/test_api_schemathesis.py is not part of this run")
    assert all(i.nodeid.endswith(f"[{i.operation_label}]") for i in labelled)  # type: ignore[attr-defined]
    assert len({i.nodeid for i in labelled}) == len(labelled) >= 60


@pytest.mark.parametrize(
    ("markexpr", "leaves_slow_out"),
    [
        ("not slow", True),
        ("not slow and not postgres", True),
        ("not (slow or postgres)", True),
        ("not slow or postgres", False),
        ("slow", False),
        ("postgres", False),
        ("", False),
    ],
)
def test_which_mark_expressions_leave_every_slow_test_out(
    markexpr: str, leaves_slow_out: bool
) -> None:
    assert marks.deselects_slow(markexpr) is leaves_slow_out


def test_a_module_marked_slow_whole_is_not_collected_by_the_fast_loop(tmp_path: Path) -> None:
    whole = tmp_path / "test_whole.py"
    whole.write_text("import pytest\n\npytestmark = pytest.mark.slow\n")
    listed = tmp_path / "test_listed.py"
    listed.write_text("import pytest\n\npytestmark = [pytest.mark.slow, pytest.mark.postgres]\n")
    some = tmp_path / "test_some.py"
    some.write_text("import pytest\n\n\n@pytest.mark.slow\ndef test_x() -> None: ...\n")
    helper = tmp_path / "helpers.py"
    helper.write_text("pytestmark = pytest.mark.slow\n")
    assert marks.skip_whole_slow_module(whole, "not slow")
    assert marks.skip_whole_slow_module(listed, "not slow")
    assert not marks.skip_whole_slow_module(some, "not slow")
    assert not marks.skip_whole_slow_module(helper, "not slow")
    assert not marks.skip_whole_slow_module(whole, "")
    assert not marks.skip_whole_slow_module(whole, "slow")


def test_the_schemathesis_file_is_left_out_of_the_fast_loop() -> None:
    """It runs long (Hypothesis draws ~2,500 requests) and collecting it generates its
    coverage examples: the fast loop neither runs nor collects it."""
    path = ROOT / "tests" / "api" / "test_api_schemathesis.py"
    assert marks.skip_whole_slow_module(path, "not slow")
