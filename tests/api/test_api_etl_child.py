"""Uploads' ETL in the reused child process (`algomancy_api.etlchild`): the same
answers as in-process, nothing stored past the deadline, a clear 503 when the child
dies, and no pandas in the server (issue 23, "light at rest")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from threading import Event
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.etlchild import EtlChild, use_child
from algomancy_api.loading import load_config
from algomancy_data.extractors import unregister_extractor
from tests.api.conftest import PREFIX, TEST_HOSTS
from tests.polling import wait_for

#: Each test starts an ETL child process.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPEC = "tests.api.etl_child_domain:config"
M = f"{PREFIX}/sessions/main"
ORDERS = [("files", ("orders.csv", b"id\n1\n2\n3\n", "text/csv"))]


@pytest.fixture(autouse=True, scope="module")
def _forget_the_slow_extension() -> Iterator[None]:
    """The domain registers its `.slow` extractor when this process loads it:
    unregister it after this file, so later tests see the extensions they made."""
    yield
    unregister_extractor("slow")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = load_config(SPEC).replace(
        data_path=str(tmp_path),
        has_persistent_state=True,
        config_import_path=SPEC,
        allowed_hosts=TEST_HOSTS,
    )
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        yield client


def child_of(client: TestClient) -> EtlChild:
    child = client.app.state.etl_child  # type: ignore[attr-defined]
    assert isinstance(child, EtlChild)
    return child


def upload(client: TestClient, name: str, files: list[Any]) -> httpx.Response:
    return client.post(f"{M}/etl", data={"dataset_name": name}, files=files)


def slow(seconds: float) -> list[Any]:
    body = f"{seconds}\nid\n1\n".encode()
    return [*ORDERS, ("files", ("slow.slow", body, "application/octet-stream"))]


def test_the_child_is_used_only_with_an_import_path_and_a_persistent_store(
    tmp_path: Path,
) -> None:
    config = load_config(SPEC).replace(data_path=str(tmp_path), has_persistent_state=True)
    assert not use_child(config)  # built as an object: in-process
    assert use_child(config.replace(config_import_path=SPEC))
    assert not use_child(config.replace(config_import_path=SPEC, etl_in_child=False))
    in_memory = config.replace(config_import_path=SPEC, has_persistent_state=False)
    assert not use_child(in_memory)  # the memory store keeps the frames in the server


def test_an_upload_is_read_in_the_child_and_stored(client: TestClient) -> None:
    r = upload(client, "orders", ORDERS)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["success"] is True
    assert answer["dataset_version"] == 1
    assert child_of(client).pid not in (None, os.getpid())
    # Stored as the child packed it, read back as any stored dataset.
    frame = client.get(f"{M}/data/orders/tables/orders/frame").json()
    assert frame["rows"] == [{"id": 1}, {"id": 2}, {"id": 3}]
    tables = client.get(f"{M}/data/orders/tables").json()["tables"]
    assert tables == [{"name": "orders", "rows": 3, "columns": ["id"]}]
    # The same content again adds no version; the digest is the child's.
    again = upload(client, "orders", ORDERS).json()
    assert (again["dataset_version"], again["dataset_digest"]) == (1, answer["dataset_digest"])


def test_a_failed_etl_in_the_child_answers_its_messages_and_stores_nothing(
    client: TestClient,
) -> None:
    r = upload(client, "bad", [("files", ("orders.csv", b"id\nnot a number\n", "text/csv"))])
    assert r.status_code == 200, r.text
    assert r.json()["success"] is False
    assert any(m["severity"] == "error" for m in r.json()["messages"])
    assert "bad" not in client.get(f"{M}/data").json()["keys"]


def test_a_file_of_an_unknown_type_is_still_answered_400(client: TestClient) -> None:
    r = upload(client, "odd", [("files", ("orders.parquet", b"PAR1", "application/x"))])
    assert r.status_code == 400, r.text
    assert "orders.parquet" in r.json()["detail"]


def test_an_etl_past_its_deadline_kills_the_child_and_stores_nothing(tmp_path: Path) -> None:
    config = load_config(SPEC).replace(
        data_path=str(tmp_path),
        has_persistent_state=True,
        config_import_path=SPEC,
        allowed_hosts=TEST_HOSTS,
        etl_timeout_seconds=1.0,
    )
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        r = upload(client, "late", slow(120))
        assert r.status_code == 503
        assert "etl_timeout_seconds" in r.json()["detail"]
        child = child_of(client)
        wait_for(lambda: child.replaced, what="the child killed")
        assert child.pid is None
        assert "late" not in client.get(f"{M}/data").json()["keys"]
        # A fresh child takes the next ETL (asked directly: without the 1 s deadline,
        # which a fresh child's start may take on a busy machine).
        output = child.run("late", [("orders.csv", b"id\n1\n")], config.read_limits, Event())
        assert output.success and output.data is not None
        assert output.data.table_rows() == {"orders": 1}


def test_a_child_killed_mid_upload_answers_503_and_the_next_upload_works(
    client: TestClient,
) -> None:
    child = child_of(client)
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(upload(client, "x", slow(120))))
    sender.start()
    pid = wait_for(lambda: child.pid, what="the ETL child started")
    os.kill(pid, signal.SIGKILL)
    sender.join(60)
    assert answers and answers[0].status_code == 503, answers
    detail = answers[0].json()["detail"]
    assert "ETL process died" in detail and "SIGKILL" in detail
    assert "x" not in client.get(f"{M}/data").json()["keys"]
    r = upload(client, "x", ORDERS)
    assert r.status_code == 200 and r.json()["success"], r.text
    assert child.pid not in (None, pid)


def test_concurrent_uploads_take_turns_in_the_one_child(client: TestClient) -> None:
    names = [f"orders-{i}" for i in range(3)]
    answers: dict[str, httpx.Response] = {}
    senders = [
        threading.Thread(target=lambda n=name: answers.update({n: upload(client, n, ORDERS)}))
        for name in names
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(120)
    assert all(answers[n].status_code == 200 and answers[n].json()["success"] for n in names)
    assert set(names) <= set(client.get(f"{M}/data").json()["keys"])
    assert child_of(client).replaced == 0  # one child served them all


def test_the_lifespan_end_stops_the_child(tmp_path: Path) -> None:
    config = load_config(SPEC).replace(
        data_path=str(tmp_path),
        has_persistent_state=True,
        config_import_path=SPEC,
        allowed_hosts=TEST_HOSTS,
    )
    with TestClient(ApiLauncher.build(config)) as client:
        assert upload(client, "orders", ORDERS).status_code == 200
        child = child_of(client)
        worker = child._worker
        assert worker is not None and worker.alive()
    assert worker.process.wait(30) is not None
    assert child.pid is None


# In a fresh interpreter: the server that ran an upload through the child has not
# imported pandas, pyarrow or a spreadsheet reader.
PROGRAM = textwrap.dedent(
    """
    import json, sys
    from fastapi.testclient import TestClient
    from algomancy_api import ApiLauncher
    from algomancy_api.loading import load_config

    spec = "benchmarks.configs:light_config"
    config = load_config(spec).replace(
        data_path=sys.argv[1], has_persistent_state=True, config_import_path=spec
    )
    with TestClient(ApiLauncher.build(config)) as client:
        answer = client.post(
            "/api/v1/sessions/main/etl",
            data={"dataset_name": "orders"},
            files={"files": ("orders.csv", sys.argv[2].encode(), "text/csv")},
        )
        assert answer.json()["success"] is True, answer.text
        listed = client.get("/api/v1/sessions/main/data").json()["keys"]
        heavy = ("pandas", "pyarrow", "numpy", "python_calamine", "openpyxl")
        print(json.dumps({
            "keys": listed,
            "loaded": sorted(m for m in sys.modules if m.split(".")[0] in heavy),
        }))
    """
)


def test_a_server_whose_etl_runs_in_the_child_has_not_imported_pandas(tmp_path: Path) -> None:
    from benchmarks.rss import light_csv

    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path), light_csv(50).decode()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "orders" in seen["keys"]
    assert seen["loaded"] == []


def test_a_spooled_upload_is_handed_over_by_path_and_a_small_one_as_bytes() -> None:
    """The child reads a file the multipart parser spooled to disk through the
    server's descriptor (the bytes cross no pipe); a small one comes as bytes."""
    import tempfile

    from starlette.datastructures import UploadFile

    from algomancy_api.etlchild import upload_source

    body = b"id\n" + b"".join(b"%d\n" % i for i in range(1000))
    with (
        tempfile.SpooledTemporaryFile(max_size=100) as spooled,
        tempfile.SpooledTemporaryFile(max_size=len(body) + 1) as small,
    ):
        spooled.write(body)
        source = upload_source(UploadFile(spooled, filename="orders.csv"))
        assert isinstance(source, str) and source.startswith(f"/proc/{os.getpid()}/fd/")
        assert Path(source).read_bytes() == body
        small.write(body)
        assert upload_source(UploadFile(small, filename="orders.csv")) == body


def test_an_upload_spooled_to_disk_is_read_by_the_child(client: TestClient) -> None:
    body = b"id\n" + b"".join(b"%d\n" % i for i in range(300_000))  # over 1 MiB: on disk
    r = upload(client, "big", [("files", ("orders.csv", body, "text/csv"))])
    assert r.status_code == 200 and r.json()["success"], r.text
    tables = client.get(f"{M}/data/big/tables").json()["tables"]
    assert tables == [{"name": "orders", "rows": 300_000, "columns": ["id"]}]
