"""Hostile workbooks over HTTP: parsed in child processes, so the server survives
whatever a workbook does; the ETL fails naming the limit hit."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests import hostile
from tests.polling import wait_for
from tests.server import ROOT, ServerProcess

from .conftest import ClientFactory
from .test_api_hostile import ITEMS, STOCK, etl, still_serving

ODD_PATHS = ["xl/sheets/sheet1.xml", "xl/worksheets/sheet1.XML"]
EXAMPLE_DATA = ROOT / "algomancy_example" / "data"


def failed_with(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is False
    assert any(limit in m["message"] for m in body["messages"]), body["messages"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_a_far_cell_sheet_at_any_path_fails_the_etl(make_client: ClientFactory, path: str) -> None:
    client = make_client(schemas=[ITEMS, STOCK])
    failed_with(etl(client, ("inventory.xlsx", hostile.far_cell_at(path))), "max_table_cells")
    still_serving(client)


def test_a_parser_that_dies_fails_the_etl_and_the_next_upload_works(
    make_client: ClientFactory,
) -> None:
    client: TestClient = make_client(schemas=[ITEMS, STOCK], max_table_cells=2**40)
    for path in ODD_PATHS:
        response = etl(client, ("inventory.xlsx", hostile.far_cell_at(path)))
        failed_with(response, "xlsx_parse_memory_bytes")
    still_serving(client)
    response = etl(client, ("inventory.xlsx", hostile.small_workbook()))
    assert response.json()["success"] is True, response.json()


CONFIG_MODULE = """
from algomancy_api.example import build_example_config

# The pre-check's cell limit lifted: the workbook reaches the reader, which asks
# for 512 GiB and aborts its process.
config = build_example_config(max_table_cells=2**40, xlsx_parse_workers=1)
"""


@pytest.mark.slow  # a real server process
def test_a_real_server_survives_a_reader_abort(tmp_path: Path) -> None:
    (tmp_path / "far_cfg.py").write_text(CONFIG_MODULE)
    sku = (EXAMPLE_DATA / "sku_data.csv").read_bytes()
    prefix = "/api/v1/sessions/main"
    with (
        ServerProcess(["--config", "far_cfg:config", "--in-memory", "--no-ui"], tmp_path) as server,
        httpx.Client(base_url=server.base, timeout=120) as client,
    ):
        for n, path in enumerate(ODD_PATHS):
            files = [
                ("files", ("sku_data.csv", sku)),
                ("files", ("inventory.xlsx", hostile.far_cell_at(path))),
            ]
            response = client.post(f"{prefix}/etl", data={"dataset_name": f"far{n}"}, files=files)
            failed_with(response, "xlsx_parse_memory_bytes")
            assert client.get("/health").status_code == 200
        inventory = (EXAMPLE_DATA / "inventory.xlsx").read_bytes()
        files = [("files", ("sku_data.csv", sku)), ("files", ("inventory.xlsx", inventory))]
        response = client.post(f"{prefix}/etl", data={"dataset_name": "fine"}, files=files)
        assert response.json()["success"] is True, response.json()["messages"]
        assert server.process is not None and server.process.poll() is None


def parser_children(pid: int) -> list[int]:
    """The parser processes the process `pid` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"algomancy_data.parseworker" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.slow  # a real server process
def test_a_client_that_leaves_stops_its_parse(tmp_path: Path) -> None:
    # Some 20 CPU-seconds of shared-formula translation, sent by a client that
    # gives up after 2 seconds: the parser process is killed, not left to finish
    # (a finished parser would stay, idle, for the next upload).
    slow = hostile.shared_formula_workbook()
    prefix = "/api/v1/sessions/main"
    with ServerProcess(["--example", "--in-memory", "--no-ui"], tmp_path) as server:
        assert server.process is not None
        pid = server.process.pid
        # The parser is looked for while the request is out: once the client leaves,
        # the server may kill it at once.
        seen: list[int] = []
        gone = threading.Event()

        def look() -> None:
            while not gone.is_set() and not seen:
                seen.extend(parser_children(pid))
                gone.wait(0.01)

        watcher = threading.Thread(target=look)
        watcher.start()
        try:
            with httpx.Client(base_url=server.base, timeout=2) as client:
                files = [("files", ("inventory.xlsx", slow))]
                with pytest.raises(httpx.ReadTimeout):
                    client.post(f"{prefix}/etl", data={"dataset_name": "slow"}, files=files)
        finally:
            gone.set()
            watcher.join()
        assert seen, "a parser should have been running the workbook"
        wait_for(lambda: not parser_children(pid), timeout=20, what="the parser killed")
        assert httpx.get(f"{server.base}/health").status_code == 200
