"""The SQL store reads scenarios' JSON columns with orjson, and what only `json`
reads (`json.dumps` writes NaN and integers past 64 bits) with `json`."""

from __future__ import annotations

import math

from algomancy_core.stores.sql.rows import json_loads as _loads


def test_plain_json_reads_as_json_would() -> None:
    assert _loads('{"count": 3, "share": 0.5, "tags": ["a", null]}') == {
        "count": 3,
        "share": 0.5,
        "tags": ["a", None],
    }


def test_what_orjson_refuses_reads_as_json_writes_it() -> None:
    assert math.isnan(_loads('{"total": NaN}')["total"])
    assert _loads('{"total": Infinity}')["total"] == math.inf
    assert _loads("[123456789012345678901234567890]") == [123456789012345678901234567890]


def test_every_long_run_of_digits_reads_exactly() -> None:
    """19 digits and more, however placed: past 64 bits orjson reads a float."""
    assert _loads('{"v": -9223372036854775809}') == {"v": -9223372036854775809}
    assert _loads("[18446744073709551616, 1]") == [18446744073709551616, 1]
    assert _loads('{"ünï": 1, "n": 99999999999999999999}')["n"] == 99999999999999999999
    assert _loads('"1234567890123456789012"') == "1234567890123456789012"
