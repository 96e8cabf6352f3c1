"""The seed's code samples, verbatim, against a real `algomancy-api serve --example`."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from algomancy_example import sample_file
from tests.server import ServerProcess, port_taken_message

SAMPLES = Path(__file__).with_name("seed_samples")
BASE = "http://127.0.0.1:8051/api/v1"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the seed's upload files, as a user would have them."""
    folder = tmp_path_factory.mktemp("seed")
    for name in ("sku_data.csv", "inventory.xlsx"):
        shutil.copy(sample_file(name), folder / name)
    return folder


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[ServerProcess]:
    taken = port_taken_message(8051)
    if taken is not None:
        pytest.fail(taken)
    with ServerProcess(
        ["--example", "--data-path", str(workdir / "state")], workdir, port=8051
    ) as s:
        yield s


def run_sample(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = (
        ["bash", str(SAMPLES / name)]
        if name.endswith(".sh")
        else [sys.executable, str(SAMPLES / name)]
    )
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_create_scenario_sample(server: ServerProcess, workdir: Path) -> None:
    run_sample("create_scenario.py", workdir)
    scenarios = httpx.get(f"{BASE}/sessions/main/scenarios").json()
    created = [s for s in scenarios if s["tag"] == "slow-5s"]
    assert len(created) == 1 and created[0]["status"] == "created"
    assert created[0]["algorithm"]["parameters"][0]["value"] == 5


def test_curl_etl_sample(server: ServerProcess, workdir: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the seed's curl sample")
    done = run_sample("etl_upload.sh", workdir)
    body = httpx.Response(200, content=done.stdout.encode()).json()
    assert body["dataset_name"] == "uploaded" and body["success"] is True
    assert set(body["keys"]) == {"uploaded", "Master data"}


def test_httpx_etl_sample(server: ServerProcess, workdir: Path) -> None:
    run_sample("etl_upload.py", workdir)
    tables = httpx.get(f"{BASE}/sessions/main/data/uploaded/tables").json()["tables"]
    assert {t["name"] for t in tables} >= {"sku_data", "stock", "locations"}


def test_polling_client_sample(server: ServerProcess, workdir: Path) -> None:
    done = run_sample("client.py", workdir)
    kpis = ast.literal_eval(done.stdout.strip())
    assert kpis["throughput"]["unit"] == "items/s"
    assert kpis["throughput"]["value"] > 0
    scenario = next(
        s for s in httpx.get(f"{BASE}/sessions/main/scenarios").json() if s["tag"] == "my-run"
    )
    assert scenario["status"] == "complete" and scenario["progress"] == 1.0


def test_parameters_descriptor_matches_the_seed(server: ServerProcess) -> None:
    body = httpx.get(f"{BASE}/sessions/main/algorithms/Slow/parameters").json()
    duration = body["parameters"][0]
    assert {
        k: duration[k] for k in ("name", "type", "required", "value", "default", "min", "max")
    } == {
        "name": "duration",
        "type": "integer",
        "required": True,
        "value": 1,
        "default": 1,
        "min": 1,
        "max": 60,
    }


def test_launch_sample_serves_the_example(tmp_path: Path, server: ServerProcess) -> None:
    """`ApiLauncher.run(ApiLauncher.build(build_example_config()))`, verbatim; it
    binds 8051 too, so it runs after the CLI server has stopped."""
    server.stop()
    launched = ServerProcess(
        [], tmp_path, command=[sys.executable, str(SAMPLES / "launch_example.py")], port=8051
    )
    with launched:
        assert httpx.get(f"{BASE}/sessions/main/data").json() == {"keys": ["Master data"]}
