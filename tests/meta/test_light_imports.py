"""The client and the command line load only what they use: no server stack, no
pandas, no core (checked in a fresh interpreter, on the modules loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import TESTS

#: Each test imports in a fresh interpreter.
pytestmark = pytest.mark.slow

HEAVY = {"fastapi", "starlette", "sqlalchemy", "pandas", "algomancy_core", "algomancy_data"}


def loaded_after(code: str) -> set[str]:
    """Top-level modules loaded in a fresh interpreter after running `code`."""
    script = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name.partition(".")[0] for name in json.loads(done.stderr.splitlines()[-1])}


@pytest.mark.parametrize(
    "code",
    [
        "import algomancy_api.client",
        "from algomancy_api.client import AlgomancyClient, AsyncAlgomancyClient, Frame",
        "from algomancy_api import AlgomancyClient, AlgomancyError",
    ],
)
def test_the_client_loads_no_server_stack_and_no_pandas(code: str) -> None:
    loaded = loaded_after(code)
    assert loaded & HEAVY == set()
    assert "algomancy_api" in loaded


def test_help_of_the_command_line_loads_no_server_stack() -> None:
    code = (
        "from algomancy_api.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['--help'])\n"
        "assert 'scenario' in out.getvalue()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['scenario', 'create', '--help'])"
    )
    loaded = loaded_after(code)
    assert loaded & (HEAVY | {"uvicorn", "httpx"}) == set()


def test_the_lazy_public_names_still_resolve() -> None:
    """`from algomancy_api import ApiLauncher` loads the server when asked for."""
    loaded = loaded_after("from algomancy_api import ApiConfiguration, ApiLauncher")
    assert {"fastapi", "algomancy_core"} <= loaded


#: What a server at rest does not load: each is imported by the first request that
#: needs it (`algomancy_data.lazy`; `benchmarks.rss`), or, for httpx, by the webhook
#: sender where webhooks are configured (`algomancy_api.webhooks`).
AT_REST_UNLOADED = {
    "numpy",
    "pandas",
    "pyarrow",
    "openpyxl",
    "python_calamine",
    "dask",
    "psycopg",
    "httpx",
}


def test_building_and_starting_an_app_loads_no_data_stack(tmp_path: Path) -> None:
    """The app factory, an app over SQLite built and started (its `main` session
    made), with a domain that imports no pandas itself: no numpy, pandas, pyarrow,
    spreadsheet readers, Dask, PostgreSQL driver or HTTP client."""
    code = (
        "from algomancy_api import ApiLauncher\n"
        "from algomancy_api.loading import load_config\n"
        "config = load_config('benchmarks.configs:light_config').replace(\n"
        f"    data_path={str(tmp_path)!r}, has_persistent_state=True)\n"
        "app = ApiLauncher.build(config)\n"
        "app.state.sessions.start()\n"
        "assert [s.display_name for s in app.state.sessions.list_sessions()] == ['main']\n"
        "app.state.sessions.close()"
    )
    assert loaded_after(code) & AT_REST_UNLOADED == set()


def test_the_example_restarted_over_its_data_loads_no_data_stack(tmp_path: Path) -> None:
    """The example's own modules import pandas and numpy lazily: a second start over
    the data of a first (whose ETL of the sample files needed pandas) loads none."""
    code = (
        "from algomancy_api import ApiLauncher\n"
        "from algomancy_api.example import build_example_config\n"
        "config = build_example_config(\n"
        f"    data_path={str(tmp_path)!r}, has_persistent_state=True)\n"
        "app = ApiLauncher.build(config)\n"
        "app.state.sessions.start()\n"
        "assert [s.display_name for s in app.state.sessions.list_sessions()] == ['main']\n"
        "assert 'Master data' in app.state.sessions.get_session('main').list_datasets()\n"
        "app.state.sessions.close()"
    )
    assert "pandas" in loaded_after(code)  # the first start: the ETL
    assert loaded_after(code) & AT_REST_UNLOADED == set()
