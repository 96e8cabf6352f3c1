"""`import algomancy_api.client` loads httpx and pydantic, not the server stack, pandas,
numpy or the core (in a fresh interpreter, on the modules it leaves loaded); pandas
comes in when a DataFrame helper is called. Import time is not asserted: see
`python -m benchmarks.bench_client_import`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures import TESTS

#: Each test runs a fresh interpreter.
pytestmark = pytest.mark.slow

HEAVY = {
    "fastapi",
    "starlette",
    "uvicorn",
    "pandas",
    "numpy",
    "sqlalchemy",
    "algomancy_core",
    "algomancy_data",
}


def loaded_after(code: str) -> set[str]:
    """Top-level modules loaded in a fresh interpreter after running `code`."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name.partition(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


def test_the_client_package_loads_httpx_and_pydantic_only() -> None:
    loaded = loaded_after(
        "import algomancy_api.client\n"
        "from algomancy_api.client import AlgomancyClient, AsyncAlgomancyClient, Frame\n"
        "AlgomancyClient('http://127.0.0.1:1').close()"
    )
    assert {"httpx", "pydantic", "algomancy_api"} <= loaded
    assert loaded & HEAVY == set()


def test_pandas_comes_with_the_first_dataframe() -> None:
    loaded = loaded_after(
        "from algomancy_api.client import Frame\n"
        "frame = Frame(status='ok', columns=['a'], rows=[{'a': 1}])\n"
        "assert 'pandas' not in sys.modules\n"
        "assert list(frame.to_pandas()['a']) == [1]"
    )
    assert "pandas" in loaded
    assert loaded & (HEAVY - {"pandas", "numpy"}) == set()
