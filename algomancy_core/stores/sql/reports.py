"""A run's intermediate values in SQL: the `reports` column of `scenarios`, JSON
`[[step, value], ...]`, appended to in one transaction (see `algomancy_core.reports`)."""

from __future__ import annotations

import orjson

from algomancy_core.reports import Report, appended
from algomancy_core.scenario import ScenarioStatus
from algomancy_core.stores.sql.database import Database
from algomancy_core.stores.sql.rows import json_loads

_PROCESSING = ScenarioStatus.PROCESSING.value
_READ = "SELECT reports FROM scenarios WHERE id = ?"
# No version bump: the record a poller shows does not change.
_WRITE = "UPDATE scenarios SET reports = ? WHERE id = ?"


def _decode(text: str | None) -> list[Report]:
    return [(int(step), float(value)) for step, value in json_loads(text)] if text else []


class ReportRepository:
    """The intermediate values of each scenario's latest run."""

    db: Database

    def add_reports(self, scenario_id: str, reports: list[Report]) -> bool:
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            # Locked (PostgreSQL) so that two appends never lose one another's values.
            found = run(
                f"{_READ} AND status = '{_PROCESSING}'" + dialect.for_update, (scenario_id,)
            )
            if not found:
                return False
            kept = appended(_decode(found[0][0]), reports)
            run(_WRITE, (orjson.dumps(kept).decode(), scenario_id))
        return True

    def get_reports(self, scenario_id: str) -> list[Report]:
        rows = self.db.dialect.query(self.db.engine, _READ, (scenario_id,))
        return _decode(rows[0][0]) if rows else []
