import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TABULAR_FRAME_CONTRACT,
    TabularFrameFieldResponse,
    TabularFrameMetaResponse,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    TabularTimeSeriesMetaResponse,
    frame_from_dataframe,
    frame_json_bytes,
)
from tests.fixtures import TABULAR_FRAME_V1, TABULAR_FRAME_V1_SCHEMA, fixture_file, fixture_files

VALID_FILES = fixture_files(TABULAR_FRAME_V1 / "valid")
INVALID_FILES = fixture_files(TABULAR_FRAME_V1 / "invalid")

# 2024-01-01T01:00:00+01:00 (Amsterdam winter time) is midnight UTC.
JAN_1_2024_MS = 1_704_067_200_000
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_valid_frame(frame: dict[str, Any], validator: jsonschema.Draft202012Validator) -> None:
    errors = [error.message for error in validator.iter_errors(frame)]
    assert errors == []
    assert TabularFrameResponse.model_validate(frame).to_json_dict() == frame


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def every_dtype_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.array([1, 2, 3], dtype=np.int64),
            "count": pd.array([10, None, 30], dtype="Int64"),
            "price": [1.5, np.nan, -2.25],
            "active": [True, False, True],
            "name": ["alpha", None, "gamma"],
            "region": pd.Categorical(["EU", "US", None]),
            "created": pd.Series(["2024-01-01", None, "2024-01-03"], dtype="datetime64[us]"),
            "updated": pd.Series(
                ["2024-01-01 01:00", "2024-07-01 02:00", None], dtype="datetime64[us]"
            ).dt.tz_localize("Europe/Amsterdam"),
            "day": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
        }
    )


def test_contract_files_are_present() -> None:
    assert len(VALID_FILES) >= 3
    assert len(INVALID_FILES) >= 4


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda path: path.name)
def test_valid_contract_examples_are_accepted(
    path: Path, schema_validator: jsonschema.Draft202012Validator
) -> None:
    document = load(path)
    frame = TabularFrameResponse.model_validate(document)
    assert frame.to_json_dict() == document
    assert schema_validator.is_valid(frame.to_json_dict())


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda path: path.name)
def test_invalid_contract_examples_are_rejected(
    path: Path, schema_validator: jsonschema.Draft202012Validator
) -> None:
    document = load(path)
    assert not schema_validator.is_valid(document)
    with pytest.raises(ValidationError):
        TabularFrameResponse.model_validate(document)
    with pytest.raises(ValidationError):
        TabularFrameResponse.model_validate_json(path.read_bytes())


@pytest.mark.parametrize(
    "document",
    [
        {"status": "done", "columns": [], "rows": []},
        {"status": "ready", "columns": ["a", "a"], "rows": []},
        {"status": "ready", "columns": [" "], "rows": []},
        {"status": "ready", "columns": ["a"], "rows": [1]},
        {"status": "ready", "columns": [], "rows": [], "extra": 1},
        {"status": "ready", "columns": [], "rows": [], "fields": [{"key": "a"}]},
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "fields": [{"key": "a", "type": "string", "color": "red"}],
        },
        {"status": "ready", "columns": [], "rows": [], "source": {"kind": "x", "id": True}},
        {"status": "ready", "columns": [], "rows": [], "source": {"kind": "x", "id": ""}},
        {"status": "ready", "columns": [], "rows": [], "source": {"kind": "x", "updatedAtMs": "1"}},
        {"status": "ready", "columns": [], "rows": [], "source": {"label": "no kind"}},
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {"tableVisuals": {"columns": {"a": {"decimals": 7}}}},
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {"tableVisuals": {"columns": {"a": {"width": 0}}}},
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {"tableVisuals": {"columns": {"a": {"thresholds": [{"operator": "gt"}]}}}},
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {"timeSeries": {"shape": "long", "timeField": "t", "sorted": True}},
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {
                "timeSeries": {
                    "shape": "wide",
                    "timeField": "t",
                    "timeUnit": "ms",
                    "timezone": "UTC",
                    "sorted": True,
                    "valueFields": [],
                }
            },
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {
                "timeSeries": {
                    "shape": "wide",
                    "timeField": "t",
                    "timeUnit": "ms",
                    "timezone": "UTC",
                    "sorted": True,
                    "valueFields": ["a"],
                    "valueField": "a",
                }
            },
        },
        {
            "status": "ready",
            "columns": [],
            "rows": [],
            "meta": {
                "timeSeries": {
                    "shape": "long",
                    "timeField": "t",
                    "timeUnit": "s",
                    "timezone": "UTC",
                    "sorted": True,
                    "valueField": "a",
                }
            },
        },
    ],
)
def test_documents_the_schema_rejects_are_rejected(
    document: dict[str, Any], schema_validator: jsonschema.Draft202012Validator
) -> None:
    assert not schema_validator.is_valid(document)
    with pytest.raises(ValidationError):
        TabularFrameResponse.model_validate(document)


def test_serialisation_omits_none_but_keeps_null_cells(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    frame = TabularFrameResponse(
        status="ready",
        columns=["x"],
        rows=[{"x": None}],
        fields=[TabularFrameFieldResponse(key="x", type="number")],
        meta=TabularFrameMetaResponse.model_validate(
            {
                "timeSeries": TabularTimeSeriesMetaResponse(
                    shape="wide", timeField="t", sorted=False, valueFields=["x"]
                ),
                "provider": "unit-test",
            }
        ),
        source=TabularFrameSourceResponse(kind="api", context={"cursor": None}),
    )

    document = frame.to_json_dict()

    assert document == {
        "status": "ready",
        "columns": ["x"],
        "rows": [{"x": None}],
        "fields": [{"key": "x", "type": "number"}],
        "meta": {
            "timeSeries": {
                "shape": "wide",
                "timeField": "t",
                "timeUnit": "ms",
                "timezone": "UTC",
                "sorted": False,
                "valueFields": ["x"],
            },
            "provider": "unit-test",
        },
        "source": {"kind": "api", "context": {"cursor": None}},
    }
    assert schema_validator.is_valid(document)


def test_frame_from_dataframe_converts_every_dtype(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    frame = frame_from_dataframe(every_dtype_frame())

    assert frame["status"] == "ready"
    assert frame["columns"] == [
        "id",
        "count",
        "price",
        "active",
        "name",
        "region",
        "created",
        "updated",
        "day",
    ]
    assert frame["rows"] == [
        {
            "id": 1,
            "count": 10,
            "price": 1.5,
            "active": True,
            "name": "alpha",
            "region": "EU",
            "created": JAN_1_2024_MS,
            "updated": JAN_1_2024_MS,
            "day": "2024-01-01",
        },
        {
            "id": 2,
            "count": None,
            "price": None,
            "active": False,
            "name": None,
            "region": "US",
            "created": None,
            "updated": JAN_1_2024_MS + 182 * DAY_MS,
            "day": None,
        },
        {
            "id": 3,
            "count": 30,
            "price": -2.25,
            "active": True,
            "name": "gamma",
            "region": None,
            "created": JAN_1_2024_MS + 2 * DAY_MS,
            "updated": None,
            "day": "2024-01-03",
        },
    ]
    kinds = {field["key"]: (field["type"], field["nullable"]) for field in frame["fields"]}
    assert kinds == {
        "id": ("integer", False),
        "count": ("integer", True),
        "price": ("number", True),
        "active": ("boolean", False),
        "name": ("string", True),
        "region": ("string", True),
        "created": ("datetime", True),
        "updated": ("datetime", True),
        "day": ("date", True),
    }
    native = {field["key"]: field["nativeType"] for field in frame["fields"]}
    assert native["count"] == "Int64"
    assert native["updated"].endswith(", Europe/Amsterdam]")
    assert {field["provenance"] for field in frame["fields"]} == {"backend"}
    assert all(field["label"] == field["key"] for field in frame["fields"])
    assert_valid_frame(frame, schema_validator)


def test_frame_from_dataframe_handles_awkward_columns(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    df = pd.DataFrame(
        {
            0: [np.inf, -np.inf, 0.5],
            "flags": pd.array([True, None, False], dtype="boolean"),
            "codes": pd.Categorical([3, None, 1]),
            "label": pd.array(["a", None, "c"], dtype="string"),
            "stamp_obj": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1), None],
            "at": [dt.time(9, 30), None, dt.time(17, 0, 5)],
            "wait": pd.to_timedelta([1.5, None, 3], unit="s"),
            "mixed": [1, "a", None],
            "payload": [{"n": np.int64(2), "x": np.nan}, [1, 2.5], None],
            "raw": [b"x", 1, None],
            "empty": [None, None, None],
            "month": pd.period_range("2024-01", periods=3, freq="M"),
        }
    )

    frame = frame_from_dataframe(df)

    columns = {key: [row[key] for row in frame["rows"]] for key in frame["columns"]}
    kinds = {field["key"]: field["type"] for field in frame["fields"]}
    assert frame["columns"][0] == "0"
    assert columns["0"] == [None, None, 0.5]
    assert columns["flags"] == [True, None, False]
    assert (kinds["codes"], columns["codes"]) == ("integer", [3, None, 1])
    assert columns["label"] == ["a", None, "c"]
    assert (kinds["stamp_obj"], columns["stamp_obj"]) == (
        "datetime",
        [JAN_1_2024_MS, JAN_1_2024_MS, None],
    )
    assert (kinds["at"], columns["at"]) == ("time", ["09:30:00", None, "17:00:05"])
    assert (kinds["wait"], columns["wait"]) == ("integer", [1500, None, 3000])
    assert (kinds["mixed"], columns["mixed"]) == ("json", [1, "a", None])
    assert (kinds["payload"], columns["payload"]) == ("json", [{"n": 2, "x": None}, [1, 2.5], None])
    assert (kinds["raw"], columns["raw"]) == ("unknown", ["b'x'", 1, None])
    assert (kinds["empty"], columns["empty"]) == ("unknown", [None, None, None])
    assert (kinds["month"], columns["month"]) == ("string", ["2024-01", "2024-02", "2024-03"])
    assert frame["fields"][0]["nullable"] is True
    assert_valid_frame(frame, schema_validator)


def test_offset_and_limit_slice_rows_but_fields_describe_the_column(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    df = pd.DataFrame({"n": range(10), "maybe": [1.0] * 9 + [np.nan]})

    page = frame_from_dataframe(df, offset=3, limit=4)
    tail = frame_from_dataframe(df, offset=8)
    beyond = frame_from_dataframe(df, offset=20, limit=5)
    nothing = frame_from_dataframe(df, limit=0)

    assert [row["n"] for row in page["rows"]] == [3, 4, 5, 6]
    assert page["fields"][1]["nullable"] is True
    assert [row["n"] for row in tail["rows"]] == [8, 9]
    assert beyond["rows"] == []
    assert nothing["rows"] == []
    assert nothing["columns"] == ["n", "maybe"]
    for frame in (page, tail, beyond, nothing):
        assert_valid_frame(frame, schema_validator)


@pytest.mark.parametrize("kwargs", [{"offset": -1}, {"limit": -1}])
def test_negative_offset_or_limit_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="negative"):
        frame_from_dataframe(pd.DataFrame({"a": [1]}), **kwargs)


def test_columns_that_collide_or_are_blank_as_strings_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        frame_from_dataframe(pd.DataFrame([[1, 2]], columns=[1, "1"]))
    with pytest.raises(ValueError, match="blank"):
        frame_from_dataframe(pd.DataFrame({" ": [1]}))


def prices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2025-01-01", periods=4, freq="D", tz="UTC"),
            "symbol": ["MSFT", "AAPL", "MSFT", "AAPL"],
            "close": [421.5, 190.0, np.nan, 191.5],
            "volume": [10, 20, 30, 40],
        }
    )


def test_time_field_with_value_field_makes_a_long_series(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    frame = frame_from_dataframe(
        prices(), time_field="timestamp", value_field="close", series_field="symbol"
    )

    assert frame["meta"] == {
        "timeSeries": {
            "shape": "long",
            "timeField": "timestamp",
            "timeUnit": "ms",
            "timezone": "UTC",
            "sorted": True,
            "valueField": "close",
            "seriesField": "symbol",
        }
    }
    assert frame["rows"][0]["timestamp"] == 1_735_689_600_000
    assert_valid_frame(frame, schema_validator)


def test_time_field_alone_makes_a_wide_series_over_numeric_columns(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    df = prices().iloc[::-1]

    frame = frame_from_dataframe(df, time_field="timestamp")
    chosen = frame_from_dataframe(df, time_field="timestamp", value_fields=["volume"])

    series = frame["meta"]["timeSeries"]
    assert series["shape"] == "wide"
    assert series["valueFields"] == ["close", "volume"]
    assert series["sorted"] is False
    assert chosen["meta"]["timeSeries"]["valueFields"] == ["volume"]
    assert_valid_frame(frame, schema_validator)
    assert_valid_frame(chosen, schema_validator)


def test_a_date_time_field_is_sent_as_epoch_milliseconds(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    df = pd.DataFrame({"day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "value": [1.0, 2.0]})

    frame = frame_from_dataframe(df, time_field="day", value_field="value")

    assert [row["day"] for row in frame["rows"]] == [JAN_1_2024_MS, JAN_1_2024_MS + DAY_MS]
    assert frame["fields"][0]["type"] == "datetime"
    assert frame["meta"]["timeSeries"]["sorted"] is True
    assert_valid_frame(frame, schema_validator)


def test_a_time_field_with_nulls_is_not_sorted() -> None:
    df = pd.DataFrame({"t": pd.Series(["2024-01-01", None], dtype="datetime64[us]"), "v": [1, 2]})

    frame = frame_from_dataframe(df, time_field="t", value_field="v")

    assert frame["meta"]["timeSeries"]["sorted"] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_field": "missing"}, "not a column"),
        ({"time_field": "symbol", "value_field": "close"}, "datetimes"),
        ({"time_field": "timestamp", "value_field": "missing"}, "not a column"),
        ({"time_field": "timestamp", "value_field": "close", "value_fields": ["close"]}, "both"),
    ],
)
def test_time_series_arguments_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        frame_from_dataframe(prices(), **kwargs)


def test_a_wide_series_needs_a_numeric_column() -> None:
    df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=2), "name": ["a", "b"]})

    with pytest.raises(ValueError, match="numeric"):
        frame_from_dataframe(df, time_field="t")


def test_source_is_serialised_without_none(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    source = TabularFrameSourceResponse(kind="dataset", id=7, context={"scenario": "base"})

    frame = frame_from_dataframe(pd.DataFrame({"a": [1]}), source=source)

    assert frame["source"] == {"kind": "dataset", "id": 7, "context": {"scenario": "base"}}
    assert_valid_frame(frame, schema_validator)


def test_frame_json_bytes_is_the_frame_as_json(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    df = every_dtype_frame()

    payload = frame_json_bytes(df, offset=1, limit=1)

    assert isinstance(payload, bytes)
    document = orjson.loads(payload)
    assert document == frame_from_dataframe(df, offset=1, limit=1)
    assert_valid_frame(document, schema_validator)


def test_a_large_frame_converts_column_by_column(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    rows = 100_000
    df = pd.DataFrame(
        {
            "t": pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC"),
            "n": np.arange(rows),
            "x": np.linspace(0.0, 1.0, rows),
            "k": pd.Categorical(["a", "b"] * (rows // 2)),
            "m": pd.array(np.arange(rows), dtype="Int64"),
        }
    )

    document = orjson.loads(frame_json_bytes(df, time_field="t", value_field="x"))

    assert len(document["rows"]) == rows
    assert document["rows"][-1] == {
        "t": JAN_1_2024_MS + (rows - 1) * 1000,
        "n": rows - 1,
        "x": 1.0,
        "k": "b",
        "m": rows - 1,
    }
    assert document["meta"]["timeSeries"]["sorted"] is True
    assert schema_validator.is_valid({**document, "rows": document["rows"][:100]})
    assert len(TabularFrameResponse.model_validate_json(orjson.dumps(document)).rows) == rows


async def get_all(app: FastAPI, *paths: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.get(path) for path in paths]


def test_routes_publish_the_contract_and_answer_valid_frames(
    schema_validator: jsonschema.Draft202012Validator,
) -> None:
    app = FastAPI()

    @app.get(
        "/frame",
        response_model=TabularFrameResponse,
        response_model_exclude_none=True,
        openapi_extra=FRAME_OPENAPI_EXTRA,
    )
    def frame_route() -> dict[str, Any]:
        return frame_from_dataframe(
            every_dtype_frame(), source=TabularFrameSourceResponse(kind="api")
        )

    @app.get("/model", response_model=TabularFrameResponse, response_model_exclude_none=True)
    def model_route() -> TabularFrameResponse:
        return TabularFrameResponse(
            status="error",
            error="boom",
            columns=[],
            rows=[],
            source=TabularFrameSourceResponse(kind="api"),
        )

    from_dataframe, from_model, openapi_response = asyncio.run(
        get_all(app, "/frame", "/model", "/openapi.json")
    )
    openapi = openapi_response.json()

    assert from_dataframe.status_code == 200
    assert from_dataframe.json() == frame_from_dataframe(
        every_dtype_frame(), source=TabularFrameSourceResponse(kind="api")
    )
    assert schema_validator.is_valid(from_dataframe.json())
    assert from_model.json() == {
        "status": "error",
        "error": "boom",
        "columns": [],
        "rows": [],
        "source": {"kind": "api"},
    }
    assert schema_validator.is_valid(from_model.json())
    assert TABULAR_FRAME_CONTRACT == "core.tabular_frame@v1"
    assert openapi["paths"]["/frame"]["get"]["x-ui-contract"] == TABULAR_FRAME_CONTRACT
    assert "TabularFrameResponse" in openapi["components"]["schemas"]
    response_schema = openapi["paths"]["/frame"]["get"]["responses"]["200"]["content"]
    assert response_schema["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TabularFrameResponse"
    }
