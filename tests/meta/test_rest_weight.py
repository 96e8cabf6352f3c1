"""A real server at rest (``serve``, SQLite, a domain that imports no pandas) has
loaded no data stack and no WebSocket library: read from the shared objects its
process maps (``/proc/<pid>/maps``; Linux)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.server import ServerProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

#: Packages with native code a server at rest must not have mapped.
UNLOADED = {"numpy", "pandas", "pyarrow", "python_calamine", "websockets", "psycopg_binary"}


def mapped_packages(pid: int) -> set[str]:
    """The site-packages folders whose shared objects process `pid` maps."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1]
        if "/site-packages/" in path and ".so" in path:
            found.add(path.split("/site-packages/")[1].split("/")[0])
    return found


def test_a_server_at_rest_maps_no_data_stack(tmp_path: Path) -> None:
    args = ["--config", "benchmarks.configs:light_config", "--data-path", str(tmp_path / "s")]
    with ServerProcess(args, tmp_path) as server:
        assert server.process is not None
        mapped = mapped_packages(server.process.pid)
    assert "pydantic_core" in mapped  # the reading works
    assert mapped & UNLOADED == set()


def test_the_example_at_rest_maps_no_data_stack_from_its_first_start(tmp_path: Path) -> None:
    """``serve --example`` on a new data path: its `main` session and the sample files'
    dataset are made in a child process before the server starts (the ETL needs
    pandas), so the server itself has loaded none of it, and the dataset is there."""
    args = ["--example", "--data-path", str(tmp_path / "s")]
    with ServerProcess(args, tmp_path) as server:
        assert server.process is not None
        mapped = mapped_packages(server.process.pid)
        answer = httpx.get(f"{server.base}/api/v1/sessions/main/data", timeout=60)
    assert answer.status_code == 200, answer.text
    assert "Master data" in answer.text
    assert "pydantic_core" in mapped
    assert mapped & UNLOADED == set()
