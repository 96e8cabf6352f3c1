"""Write the databases that `test_core_batch_claims.py` migrates to version 13: a
SQLite file and a PostgreSQL dump, each filled by the code of schema version 12
(this repository at `VERSION_12`, unpacked with `git archive`): a session with a
dataset, a complete scenario, a created one and a complete 2-point experiment.
Committed, so that the test runs where no git history is at hand. Run from the
repository root:

    python -m tests.core.data.make_version_12
"""

from __future__ import annotations

from pathlib import Path

from tests.old_databases import write

HERE = Path(__file__).parent
#: Main before batch scenarios (schema version 12).
VERSION_12 = "41e6393ea39d44af8b5a9a9265d647047bd091a6"
FILL = """
import json, sys
import pandas as pd
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.experiments.service import create_experiment
from algomancy_core.stores.sql import SCHEMA_VERSION
from algomancy_data import DataSource
from tests.core.conftest import Instant, Total

assert SCHEMA_VERSION == 12, SCHEMA_VERSION

config = CoreConfig(algorithms=[Instant], kpis=[Total], database_url=sys.argv[1])
with SessionManager(config) as sessions:
    main = sessions.get_session("main")
    main.add_dataset("week1", DataSource("week1", tables={"items": pd.DataFrame({"qty": [1, 2]})}))
    done = main.create_scenario("done", "week1", "Instant")
    main.run_scenario(done.id)
    main.wait(done.id)
    waiting = main.create_scenario("waiting", "week1", "Instant", {"count": 7})
    base = {"algo_name": "Instant", "dataset_key": "week1"}
    design = {"kind": "grid", "axes": [{"name": "count", "values": [1, 2]}]}
    grid = create_experiment(main, "grid", base, design, 10)
    for scenario_id in grid.scenario_ids:
        main.wait(scenario_id)
    print(json.dumps({"done": done.id, "waiting": waiting.id, "experiment": grid.id,
                      "points": grid.scenario_ids, "schema": SCHEMA_VERSION}))
"""


def main() -> None:
    write(VERSION_12, FILL, HERE, "version_12")


if __name__ == "__main__":
    main()
