"""SQLite: the change of each scenario's status move, appended by the database.

On the writer connection of each process, a TEMP trigger appends to `changes` the
change of every `UPDATE` that sets a scenario's `status` (`changes.STATUS_KINDS`,
the payload `changes.scenario_payload` of the row as it now is), inside that
statement, and prunes the feed as `stores/sql/changes.append` does. So a claim or a
run's end is one statement, in autocommit, where it was four (BEGIN IMMEDIATE, the
UPDATE, the change's INSERT, COMMIT). `SQLiteDialect.feeds_status_changes` tells the
scenario writes (`stores/sql/scenarios.py`) to leave the append to it.

A speed-up kept for "11 create+run+complete x1000, HTTP: SQLite / in memory" and
"... in process: SQLite" (`benchmarks/bench_scenarios.py`): each sqlite3 call hands
the GIL over and back, and on the dispatcher's and run threads taking it back waited
~0.4-0.7 ms behind the event loop's work, all of it holding the write turn the next
request waits for (the figures are in that benchmark's docstring, "Eighth stop").

TEMP, on the connection: each process appends by its own code's rule, whatever
another process sharing the file runs, and the schema holds no trigger to migrate.
The numbers (`CHANGES_KEPT`, `PRUNE_EVERY`) are read when the connection opens.
"""

from __future__ import annotations

from algomancy_core import changes
from algomancy_core.events import SCENARIO_EVENT_FIELDS


def _event_json() -> str:
    """`scenario_payload` of the row (`NEW`) as SQLite's JSON. A float is written
    with 17 significant digits (`%!.17g`): it reads back as the same float, where
    JSON's own 15 would not (1/3)."""
    fields = ", ".join(
        f"'{key}', json(printf('%!.17g', NEW.{name}))"
        if name == "progress"
        else f"'{key}', NEW.{name}"
        for key, name in SCENARIO_EVENT_FIELDS.items()
    )
    return f"json_object('scenario', json_object({fields}))"


def status_changes_trigger() -> str:
    """The `CREATE TEMP TRIGGER` of this module's docstring."""
    kinds = " ".join(
        f"WHEN '{status.value}' THEN '{kind}'" for status, kind in changes.STATUS_KINDS.items()
    )
    kept, every = int(changes.CHANGES_KEPT), int(changes.PRUNE_EVERY)
    # `last_insert_rowid()` is the change's seq while the trigger runs.
    seq = "last_insert_rowid()"
    return (
        "CREATE TEMP TRIGGER IF NOT EXISTS algomancy_status_changes "
        "AFTER UPDATE OF status ON scenarios BEGIN "
        "INSERT INTO changes (session_id, kind, subject, payload, at) VALUES ("
        f"NEW.session_id, CASE NEW.status {kinds} END, NEW.id, {_event_json()}, "
        # The time as `sqlite_time` writes it (SQLite's clock has milliseconds).
        "strftime('%Y-%m-%d %H:%M:%f000', 'now')); "
        f"DELETE FROM changes WHERE {seq} % {every} = 0 AND {seq} > {kept} "
        f"AND seq <= {seq} - {kept}; "
        "END"
    )
