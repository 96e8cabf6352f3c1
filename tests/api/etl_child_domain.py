"""A domain loaded by import path (`config_import_path`), so that its uploads' ETL
runs in the ETL child process (`tests/api/test_api_etl_child.py`). Files ending in
``.slow`` hold a number of seconds that their reader sleeps (in the child) before
reading the rest as CSV."""

from __future__ import annotations

import io
import time
from typing import Any

from algomancy_core import BaseAlgorithm, BaseResult
from algomancy_data import Column, Schema
from algomancy_data.extractors import register_extractor, unregister_extractor


class Noop(BaseAlgorithm):
    name = "Noop"

    def run(self, data: Any, ctx: Any) -> BaseResult:
        return BaseResult({})


def read_slow(data: bytes, column_types: dict[str, str]) -> Any:
    import pandas as pd

    seconds, _, rest = data.partition(b"\n")
    time.sleep(float(seconds))
    return pd.read_csv(io.BytesIO(rest))


unregister_extractor("slow")
register_extractor("slow", read_slow)

ORDERS = Schema("orders", extension="csv", columns=[Column("id", "integer")])
SLOW = Schema("slow", extension="slow", columns=[Column("id", "integer")], required=False)

config: dict[str, Any] = {
    "title": "ETL child",
    "algorithms": [Noop],
    "schemas": [ORDERS, SLOW],
    "autocreate": False,
}
