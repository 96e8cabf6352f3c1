"""`serve --validate`: build the wiring, check it, print it, exit without serving."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from algomancy_api import cli
from tests.pg import postgres_server, postgres_url  # noqa: F401


def validate(*flags: str) -> int:
    return cli.main(["serve", "--validate", *flags])


def test_the_example_in_memory_checks_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--example", "--in-memory", "--validate"]) == 0
    out = capsys.readouterr().out
    assert "configuration: algomancy_example.domain:example_settings" in out
    assert "algorithms: " in out and "kpis: " in out and "files: " in out
    assert "store: in memory" in out
    assert out.rstrip().endswith("ok: the wiring checks out (nothing was served)")


def test_a_new_sqlite_file_is_named_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    assert cli.main(["serve", "--example", "--data-path", str(state), "--validate"]) == 0
    out = capsys.readouterr().out
    assert (
        f"store: SQLite file {state.resolve() / 'algomancy.sqlite3'} (created on first start)"
        in out
    )
    assert not state.exists()


def test_an_existing_sqlite_file_is_read_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "state.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = database.read_bytes()
    url = f"sqlite:///{database}"
    assert cli.main(["serve", "--example", "--database-url", url, "--validate"]) == 0
    assert f"store: SQLite file {database} (exists, 1 schema objects)" in capsys.readouterr().out
    assert database.read_bytes() == before


def test_a_file_that_is_not_sqlite_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "state.db"
    database.write_text("not a database " * 100)
    url = f"sqlite:///{database}"
    assert cli.main(["serve", "--example", "--database-url", url, "--validate"]) == 1
    out = capsys.readouterr().out
    assert "is not a readable SQLite database" in out
    assert "the wiring has errors" in out


def test_a_sqlite_file_that_cannot_be_created_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    url = f"sqlite:///{tmp_path / 'a-file' / 'state.db'}"
    assert cli.main(["serve", "--example", "--database-url", url, "--validate"]) == 1
    assert "cannot be created" in capsys.readouterr().out


def test_an_unreachable_postgresql_fails(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:9/algomancy?connect_timeout=5"
    assert cli.main(["serve", "--example", "--database-url", url, "--validate"]) == 1
    out = capsys.readouterr().out
    assert "error: store: cannot reach postgresql+psycopg://nobody:***@127.0.0.1:9/algomancy" in out
    assert "secret" not in out


def test_an_unsupported_database_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate("--example", "--database-url", "mysql://db/algomancy") == 2
    assert "database_url: 'mysql' databases are not supported" in capsys.readouterr().err


def test_a_broken_configuration_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate("--config", "no_such_module_here:cfg") == 2
    assert "no_such_module_here" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_reachable_postgresql_checks_out_and_is_left_as_it_was(
    postgres_url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["serve", "--example", "--database-url", postgres_url, "--validate"]) == 0
    out = capsys.readouterr().out
    assert "(reached: PostgreSQL 15" in out
    engine = sa.create_engine(postgres_url)
    try:
        assert sa.inspect(engine).get_table_names() == []  # nothing was created
    finally:
        engine.dispose()


BROKEN_ETL = """
from algomancy_api import ApiConfiguration
from algomancy_data import Column, ETLFactory, Schema


class Broken(ETLFactory):
    def __init__(self, schemas):
        raise RuntimeError("no warehouse code given")


config = ApiConfiguration(
    schemas=[Schema("items", columns=[Column("sku")])], etl_factory=Broken
)
"""


def test_an_etl_factory_that_cannot_be_built_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_etl.py").write_text(BROKEN_ETL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli.main(["serve", "--config", "broken_etl:config", "--in-memory", "--validate"]) == 1
    out = capsys.readouterr().out
    assert "error: the ETL factory cannot be built: no warehouse code given" in out
