"""Write the databases that `test_api_versions_migration.py` migrates: a SQLite file
and a PostgreSQL dump, each filled by the code from before dataset versions.

The earlier code is this repository at `BEFORE_VERSIONS`, unpacked with `git
archive`; the files are committed so that the test runs where no git history is at
hand (CI copies the checkout without `.git`). Run from the repository root:

    python -m tests.api.data.make_before_versions
"""

from __future__ import annotations

from pathlib import Path

from tests.old_databases import write

HERE = Path(__file__).parent
#: Main before dataset versions (schema version 8).
BEFORE_VERSIONS = "3e83bf7a6a57315e02afc070ae0dcedea65ffe1d"
FILL = """
import json, sys
import pandas as pd
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.stores.sql import SCHEMA_VERSION
from algomancy_data import DataSource
from tests.core.conftest import Instant, Total

assert SCHEMA_VERSION < 9, SCHEMA_VERSION

def items(qty):
    return DataSource("week1", tables={"items": pd.DataFrame({"qty": qty})})

config = CoreConfig(algorithms=[Instant], kpis=[Total], database_url=sys.argv[1])
with SessionManager(config) as sessions:
    main = sessions.get_session("main")
    main.add_dataset("week1", items([1, 2, 3]))
    before = main.create_scenario("before", "week1", "Instant")
    main.run_scenario(before.id)
    main.wait(before.id)
    main.add_dataset("week1", items([2, 4, 6]), replace=True)
    after = main.create_scenario("after", "week1", "Instant")
    main.run_scenario(after.id)
    main.wait(after.id)
    print(json.dumps({"before": before.id, "after": after.id, "schema": SCHEMA_VERSION}))
"""


def main() -> None:
    write(BEFORE_VERSIONS, FILL, HERE, "before_versions")


if __name__ == "__main__":
    main()
