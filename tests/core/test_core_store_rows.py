"""The SQL store's row shapes: one column list per record type, one decoder from it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
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
