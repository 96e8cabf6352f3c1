"""`SQLStore`: sessions, datasets and scenarios in SQLite or PostgreSQL.

Split by concept: `schema` (tables, version, migrations), `dialect` (what differs
between SQLite and PostgreSQL, chosen once), `connections` (every path to the
database: pools, PostgreSQL's event-loop reads, fork hooks), `transaction` (the
plain-SQL write transaction), `files` (file modes, checkpoints), `database` (engine
and transactions), `rows` (one column list and one decoder per record type),
`reads` (the hot reads: status poll, session and scenario lists), and one repository
per concept (`sessions`, `datasets`, `scenarios` with the run queue, `batches`:
many scenarios added in one transaction, `reports`: a
run's intermediate values, `changes`: the
feed session streams follow; `audit` with the webhook queue). The layout, the SQLite
settings and the upgrade path are described in docs/persistence.md.

Query style: plain SQL text, `?` for each parameter (the dialect adapts it to the
driver), for every read and write of the repositories. Why not SQLAlchemy Core
statements: the hot paths (polls, claims, transitions) must run on plain DB-API
connections (SQLite's lent sqlite3 connections, psycopg in autocommit, asyncio
psycopg), where a Core statement cannot run, and building and compiling one costs
more than running these; the status poll and create+run+complete figures of
`python -m benchmarks` rest on it. One style means one encoding of values (the
dialect's `encode_time`) and one decoding (`rows`). The statements are short and
written for both backends; what differs is a fragment of the dialect
(`for_update`, `skip_locked`, `next_position_sql`, ...). SQLAlchemy stays for what
is not a query: the table definitions, the migrations (`schema`), PostgreSQL's
connection pool, and `Database.write`/`read` for the experiments book.
"""

from __future__ import annotations

from pathlib import Path

from algomancy_core.audit import AuditLog
from algomancy_core.deliveries import DeliveryQueue
from algomancy_core.experiments.book import ExperimentBook
from algomancy_core.stores.base import DatasetDeletion
from algomancy_core.stores.sql.audit import SQLAuditLog, SQLDeliveryQueue
from algomancy_core.stores.sql.batches import ScenarioBatches
from algomancy_core.stores.sql.changes import ChangeRepository
from algomancy_core.stores.sql.database import Database
from algomancy_core.stores.sql.datasets import DatasetRepository
from algomancy_core.stores.sql.dialect import normalize_url
from algomancy_core.stores.sql.experiments import SQLExperimentBook
from algomancy_core.stores.sql.reads import HotReads
from algomancy_core.stores.sql.reports import ReportRepository
from algomancy_core.stores.sql.scenarios import ScenarioRepository
from algomancy_core.stores.sql.schema import SCHEMA_VERSION, SchemaVersionError
from algomancy_core.stores.sql.sessions import SessionRepository
from algomancy_core.stores.sql.studies import SQLStudyBook
from algomancy_core.studies.book import StudyBook
from algomancy_data import DataSource


class SQLStore(
    HotReads,
    SessionRepository,
    DatasetRepository,
    ScenarioRepository,
    ScenarioBatches,
    ReportRepository,
    ChangeRepository,
):
    """A store in a SQL database: a SQLite file (one host) or PostgreSQL (many).

    `data_object_type` is the `DataSource` subclass datasets are rebuilt as. Nothing
    read is kept between calls except decoded datasets, checked against the
    database's version on every read: a write by any process is seen at once.
    """

    shared = True

    def __init__(
        self,
        url: str,
        *,
        data_path: Path | str | None = None,
        data_object_type: type[DataSource] = DataSource,
    ) -> None:
        DatasetRepository.__init__(self)
        self.db = Database(url, data_path=data_path)
        self.url = self.db.url
        self.engine = self.db.engine
        self.data_object_type = data_object_type
        self.inline_reads = self.db.dialect.inline_reads
        self.audit: AuditLog = SQLAuditLog(self.db)
        self.deliveries: DeliveryQueue = SQLDeliveryQueue(self.db)
        self.experiments: ExperimentBook = SQLExperimentBook(self.db)
        self.studies: StudyBook = SQLStudyBook(self.db)

    # Deletes go through `Database.deleting`: they still work on a full disk.
    def delete_session(self, session_id: str) -> None:
        self.db.deleting(lambda: SessionRepository.delete_session(self, session_id))
        self._forget(session_id)

    def delete_dataset(self, session_id: str, key: str) -> DatasetDeletion:
        return self.db.deleting(lambda: DatasetRepository.delete_dataset(self, session_id, key))

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        self.db.deleting(lambda: ScenarioRepository.delete_scenario(self, session_id, scenario_id))

    def close(self) -> None:
        """Checkpoint (SQLite: the main file then holds everything) and release every
        pooled connection."""
        self.close_cache()
        self.db.close()


__all__ = ["SCHEMA_VERSION", "SQLStore", "SchemaVersionError", "normalize_url"]
