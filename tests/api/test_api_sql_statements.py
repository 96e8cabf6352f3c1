"""The SQL statements of a create and of a run request over HTTP on SQLite (issues 22
and 23: "11 create+run+complete, HTTP: SQLite / in memory" of
`benchmarks.bench_scenarios`), as `tests/core/test_core_sql_statement_count.py`
pins those of the core: each read is a round through sqlite3 that gives up the GIL,
on the request's path.
"""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import PREFIX, ClientFactory
from tests.sqltrace import Trace

M = f"{PREFIX}/sessions/main"


def _requests(traced: Trace) -> list[str]:
    """The statements of the requests' threads (not the dispatcher's and runs')."""
    return [sql for name, sql in traced if not name.startswith("algomancy-")]


def test_a_run_request_reads_its_scenario_with_the_baseline_in_one_statement(
    make_client: ClientFactory, traced: Trace, tmp_path: Path
) -> None:
    client = make_client(has_persistent_state=True, data_path=tmp_path / "state")
    body = {"tag": "counted", "dataset_key": "Master data", "algo_name": "Instant"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.put(f"{M}/baseline", json={"scenario_id": scenario_id})

    traced.clear()
    answer = client.post(f"{M}/scenarios/{scenario_id}/run")
    assert answer.status_code == 202 and answer.json()["baseline"] is True
    reads = [sql for sql in _requests(traced) if sql.startswith("SELECT")]
    # The session (by name), then the scenario with the baseline: no read of the
    # baseline of its own.
    assert len(reads) == 2, reads
    assert "FROM baselines" in reads[1] and "FROM scenarios" in reads[1], reads


def test_a_create_reads_only_its_session_before_its_write(
    make_client: ClientFactory, traced: Trace, tmp_path: Path
) -> None:
    client = make_client(has_persistent_state=True, data_path=tmp_path / "state")
    body = {"tag": "warm-up", "dataset_key": "Master data", "algo_name": "Instant"}
    assert client.post(f"{M}/scenarios", json=body).status_code == 201

    traced.clear()
    answer = client.post(f"{M}/scenarios", json=body | {"tag": "counted"})
    assert answer.status_code == 201
    statements = _requests(traced)
    before = statements[: statements.index("BEGIN IMMEDIATE")]
    # The session (by name) only: the dataset's latest version is the one the store
    # saw last (checked in the write), and so is the room under the session's limit.
    assert len(before) == 1, before
    assert not [sql for sql in statements if sql.startswith("SELECT coalesce(max(rowid)")]
