"""Write the databases that `test_core_experiment_points.py` migrates to version 16
(experiment points in rows of their own): a SQLite file and a PostgreSQL dump, each
filled by the code of schema version 15 (this repository at `VERSION_15`, unpacked
with `git archive`): a session with a dataset and three complete experiments (a
grid; a grid reusing one of its points; a random design with repetitions, its first
point dropped), and each experiment's frame as that code answered it (whole, and a
page), so that the test can check the migrated database answers the same bytes.
Committed, so that the test runs where no git history is at hand. Run from the
repository root:

    python -m tests.core.data.make_version_15
"""

from __future__ import annotations

from pathlib import Path

from tests.old_databases import write

HERE = Path(__file__).parent
#: Main before experiment points had rows of their own (schema version 15).
VERSION_15 = "00ae58e79dd78b2fc3a24f11c09d2418a795631f"
FILL = """
import dataclasses, json, sys
import pandas as pd
from algomancy_api.routers.experiments import experiment_frame
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.experiments.service import create_experiment
from algomancy_core.stores.sql import SCHEMA_VERSION
from algomancy_data import DataSource
from tests.core.conftest import Instant, Total

assert SCHEMA_VERSION == 15, SCHEMA_VERSION

config = CoreConfig(algorithms=[Instant], kpis=[Total], database_url=sys.argv[1])
with SessionManager(config) as sessions:
    main = sessions.get_session("main")
    main.add_dataset("week1", DataSource("week1", tables={"items": pd.DataFrame({"qty": [1, 2]})}))
    base = {"algo_name": "Instant", "dataset_key": "week1"}
    made = {}
    for name, design in (
        ("grid", {"kind": "grid", "axes": [{"name": "count", "values": [1, 2]}]}),
        ("again", {"kind": "grid", "axes": [{"name": "count", "values": [2, 3]}]}),
        ("rand", {"kind": "random", "n": 3, "seed": 4, "repetitions": 2,
                  "axes": [{"name": "count", "min": 0, "max": 50}]}),
    ):
        record = create_experiment(main, name, base, design, 100)
        for scenario_id in dict.fromkeys(record.scenario_ids):
            main.wait(scenario_id)
        made[name] = record
    rand = made["rand"]
    dropped = dataclasses.replace(
        rand,
        points=rand.points[1:],
        scenario_ids=rand.scenario_ids[1:],
        numbers=list(range(2, len(rand.points) + 1)),
        dropped=[1],
    )
    main._store.experiments.update(dropped)
    frames = {}
    for name, record in made.items():
        whole = experiment_frame(record.id, main, 0, 1000).body.decode()
        page = experiment_frame(record.id, main, 1, 2).body.decode()
        frames[name] = {"id": record.id, "whole": whole, "page": page}
    again = made["again"]
    print(json.dumps({"experiments": frames, "again_reused": again.reused,
                      "again_points": again.scenario_ids, "schema": SCHEMA_VERSION}))
"""


def main() -> None:
    write(VERSION_15, FILL, HERE, "version_15")


if __name__ == "__main__":
    main()
