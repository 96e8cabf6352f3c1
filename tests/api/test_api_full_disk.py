"""A full disk: 507 naming the cause, deletes that still work, and recovery without
a restart. The end-to-end test fills a real 16 MiB tmpfs (root only: it mounts one);
the others raise what the drivers raise on a full disk."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg.errors
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_core.errors import storage_full
from algomancy_core.stores.sql import reserve
from tests.api.conftest import PREFIX, api_config

M = f"{PREFIX}/sessions/main"


def sqlite_full() -> Exception:
    try:
        raise sqlite3.OperationalError("database or disk is full")
    except sqlite3.OperationalError as exc:
        return sa.exc.OperationalError("INSERT ...", (), exc)


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (sqlite_full(), "the SQLite database or its disk is full"),
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "Disk quota exceeded"),
        (
            sa.exc.OperationalError("INSERT ...", (), psycopg.errors.DiskFull("no space")),
            "PostgreSQL's disk is full",
        ),
    ],
)
def test_what_a_full_disk_raises_is_recognised(exc: Exception, cause: str) -> None:
    assert storage_full(exc) == cause
    try:
        raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert storage_full(wrapped) == cause


def test_other_storage_errors_are_not_a_full_disk() -> None:
    assert storage_full(OSError(errno.EACCES, "Permission denied")) is None
    assert storage_full(sqlite3.OperationalError("database is locked")) is None


@pytest.mark.parametrize(
    "exc", [sqlite_full(), OSError(errno.ENOSPC, "No space left on device")], ids=["sqlite", "os"]
)
def test_a_write_on_a_full_disk_is_507_naming_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    config = api_config(has_persistent_state=True, data_path=str(tmp_path / "state"))
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        store = client.app.state.session_manager.runtime.store  # type: ignore[attr-defined]

        def full(*args: Any, **kwargs: Any) -> None:
            raise exc

        monkeypatch.setattr(store, "create_session", full)
        r = client.post(f"{PREFIX}/sessions", json={"display_name": "more"})
        assert r.status_code == 507, r.text
        assert r.json()["detail"].startswith(f"insufficient storage: {storage_full(exc)}")
        monkeypatch.undo()
        assert client.post(f"{PREFIX}/sessions", json={"display_name": "more"}).status_code == 201


@pytest.mark.slow  # mounts a small file system
def test_507_is_declared_on_the_operations_that_write(tmp_path: Path) -> None:
    with TestClient(ApiLauncher.build(api_config())) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "507" in paths[f"{PREFIX}/sessions"]["post"]["responses"]
    assert (
        "507" in paths[f"{PREFIX}/sessions/{{session_id}}/data/{{data_key}}"]["delete"]["responses"]
    )
    assert "507" not in paths[f"{PREFIX}/sessions"]["get"]["responses"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs (skipped unless this process may mount one)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_answers_507_deletes_free_space_and_the_server_recovers(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More than the write-ahead log holds at most (1000 pages, 4 MiB): a delete on the
    # full disk can always checkpoint it, wherever the disk filled up.
    monkeypatch.setattr(reserve, "RESERVE_BYTES", 5 * 1024 * 1024)
    config = api_config(has_persistent_state=True, data_path=str(small_disk / "state"))

    def dataset(name: str) -> dict[str, Any]:
        values = [os.urandom(50).hex() for _ in range(1000)]  # incompressible
        return {
            "format": "algomancy.datasource",
            "version": 1,
            "name": name,
            "tables": {"t": {"columns": ["a"], "dtypes": ["str"], "data": {"a": values}}},
        }

    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        assert (small_disk / "state" / "algomancy.sqlite3-reserve").exists()
        added = 0
        while True:
            r = client.post(f"{M}/data/from-json", json=dataset(f"d{added}"))
            if r.status_code != 201:
                break
            added += 1
            assert added < 200, "the disk never filled"
        assert r.status_code == 507, r.text
        assert "the SQLite database or its disk is full" in r.json()["detail"]
        assert client.post(f"{PREFIX}/sessions", json={"display_name": "x"}).status_code in (
            201,
            507,
        )
        # Deletes work on the full disk, and free space for new data at once.
        for key in range(3):
            assert client.delete(f"{M}/data/d{key}").status_code == 204
        for key in range(2):
            assert client.post(f"{M}/data/from-json", json=dataset(f"new{key}")).status_code == 201
        keys = client.get(f"{M}/data").json()["keys"]
        assert "new1" in keys and "d0" not in keys and f"d{added - 1}" in keys
        assert client.get("/health").status_code == 200
    # Everything written is there after a restart too.
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as client:
        assert client.get(f"{M}/data").json()["keys"] == keys
