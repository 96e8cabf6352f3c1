"""One real example server (`serve --example --in-memory`) for the client and CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import ServerProcess


@pytest.fixture(scope="package")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder: Path = tmp_path_factory.mktemp("example-server")
    with ServerProcess(["--example", "--in-memory"], folder) as server:
        yield server
