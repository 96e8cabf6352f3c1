"""The SQL store's row shapes: one column list per record type, one decoder from it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.stores.sql.dialect import SQLiteDialect
from algomancy_core.stores.sql.rows import SCENARIO, SESSION, Shape


@dataclasses.dataclass(frozen=True)
class Widget:
    id: str
    count: int
    share: float | None
    done: bool
    status: ScenarioStatus
    made: datetime
    extra: dict[str, Any] | None
    note: str | None = None


def as_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def test_a_shape_reads_every_field_in_order_and_decodes_each_by_its_type() -> None:
    shape = Shape(Widget, sql={"note": "NULLIF(note, '')"})
    assert shape.columns == "id, count, share, done, status, made, extra, NULLIF(note, '')"
    decode = shape.decoder(as_time)
    row = ("w", "3", None, 1, "queued", "2026-01-02 03:04:05.000006", '{"a": [1]}', None)
    assert decode(row) == Widget(
        "w",
        3,
        None,
        True,
        ScenarioStatus.QUEUED,
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        {"a": [1]},
        None,
    )
    assert decode(("w", 1, "0.5", 0, "created", "2026-01-02", None, "n")).share == 0.5


def test_a_field_of_a_type_no_column_decodes_is_refused_by_name() -> None:
    @dataclasses.dataclass
    class Odd:
        id: str
        when: complex

    with pytest.raises(TypeError, match="when"):
        Shape(Odd)


def test_the_scenario_shape_is_the_record_itself() -> None:
    assert SCENARIO.names == tuple(f.name for f in dataclasses.fields(ScenarioRecord))
    assert "result" not in SCENARIO.columns_without("result").split(", ")
    assert SESSION.columns.endswith("NULLIF(owner, '')")


def test_a_decoder_is_made_once_per_time_decoding() -> None:
    assert SCENARIO.decoder(as_time) is SCENARIO.decoder(as_time)


def test_each_row_decodes_to_json_values_of_its_own() -> None:
    # The empty object is made without a JSON call: a fresh dict each time, never
    # one shared by two records.
    decode = Shape(Widget).decoder(as_time)
    row = ("w", 1, None, 0, "created", "2026-01-02", "{}", None)
    first, second = decode(row), decode(row)
    assert first.extra == {} and first.extra is not second.extra


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-01-02 03:04:05.000006", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        ("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        # Forms the appended offset does not fit are read the plain way.
        ("2026-01-02 05:04:05.000006+02:00", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
        ("2026-01-02T03:04:05.000006+00:00", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        (None, None),
    ],
)
def test_sqlite_reads_each_stored_time_form_in_utc(stored: str | None, read: datetime) -> None:
    decoded = SQLiteDialect().decode_time(stored)
    assert decoded == read
    assert decoded is None or decoded.tzinfo is UTC
