from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from algomancy_data import DataClassification, DataSource


def every_dtype_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "int": np.array([1, -2, 3], dtype="int64"),
            "int32": np.array([1, 2, 3], dtype="int32"),
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "float": [1.5, np.nan, -0.25],
            "float_inf": [np.inf, -np.inf, 0.0],
            "nullable_float": pd.array([1.5, None, 2.0], dtype="Float64"),
            "str_default": pd.Series(["a", None, "é€"], dtype="str"),
            "object_str": pd.Series(["a", None, "c"], dtype=object),
            "string_python": pd.array(["x", None, "z"], dtype="string[python]"),
            "string_pyarrow": pd.array(["x", "y", None], dtype="string[pyarrow]"),
            "bool": [True, False, True],
            "nullable_bool": pd.array([True, None, False], dtype="boolean"),
            "datetime": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-01 00:00"]),
            "datetime_ns": pd.to_datetime(
                ["2024-01-01 00:00:00.000000001", "2024-01-02 00:00:00.000000000", None]
            ).astype("datetime64[ns]"),
            "datetime_tz": pd.to_datetime(
                ["2024-01-01 10:00", "2024-07-01 10:00", None]
            ).tz_localize("Europe/Amsterdam"),
            "category": pd.Categorical(["b", None, "a"], categories=["b", "a", "c"], ordered=True),
            "category_int": pd.Categorical([3, 1, None], categories=[3, 1]),
            "timedelta": pd.to_timedelta([1, None, 3], unit="s"),
        }
    )


def assert_same_tables(left: DataSource, right: DataSource) -> None:
    assert left.list_tables() == right.list_tables()
    for name in left.list_tables():
        pd.testing.assert_frame_equal(left.get_table(name), right.get_table(name), check_exact=True)


def test_json_round_trip_keeps_every_dtype_and_the_metadata() -> None:
    frame = every_dtype_frame()
    source = DataSource(
        "warehouse",
        DataClassification.DERIVED_DATA,
        tables={"everything": frame, "empty": frame.iloc[0:0]},
        data_parameters={"horizon_days": 14, "region": "EU"},
    )
    back = DataSource.from_json(source.to_json())
    assert_same_tables(source, back)
    assert list(back.get_table("everything").columns) == list(frame.columns)
    assert back.get_table("everything")["object_str"].tolist() == ["a", None, "c"]
    assert (back.name, back.classification, back.id) == (
        "warehouse",
        DataClassification.DERIVED_DATA,
        source.id,
    )
    assert back.created_at == source.created_at
    assert back.data_parameters == {"horizon_days": 14, "region": "EU"}


def test_json_document_is_columnar_versioned_and_uses_null() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan], "t": pd.to_datetime(["2024-01-01", None])})
    document = orjson.loads(DataSource("d", tables={"t": frame}).to_json())
    assert document["format"] == "algomancy.datasource"
    assert document["version"] == 1
    assert document["classification"] == "master_data"
    table = document["tables"]["t"]
    assert table["columns"] == ["a", "t"]
    assert table["data"]["a"] == [1.0, None]
    assert table["data"]["t"][1] is None
    assert "index" not in table


def test_json_round_trip_keeps_a_non_default_index() -> None:
    frame = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="key"))
    back = DataSource.from_json(DataSource("d", tables={"t": frame}).to_json())
    pd.testing.assert_frame_equal(back.get_table("t"), frame)


def test_categories_keep_their_order_and_ordered_flag() -> None:
    frame = pd.DataFrame({"c": pd.Categorical(["lo", "hi"], categories=["lo", "mid", "hi"])})
    back = DataSource.from_json(DataSource("d", tables={"t": frame}).to_json()).get_table("t")
    assert list(back["c"].cat.categories) == ["lo", "mid", "hi"]
    assert back["c"].cat.ordered is False


def test_arrow_round_trip_keeps_every_dtype_and_the_metadata() -> None:
    source = DataSource(
        "warehouse",
        tables={"everything": every_dtype_frame()},
        data_parameters={"k": [1, 2]},
    )
    back = DataSource.from_arrow_bytes(source.to_arrow_bytes())
    assert_same_tables(source, back)
    assert back.get_table("everything")["object_str"].dtype == object
    assert (back.id, back.created_at, back.data_parameters) == (
        source.id,
        source.created_at,
        {"k": [1, 2]},
    )


@pytest.mark.parametrize("payload", [b"", b"not arrow", b"ALGODS1\n\x00\x00\x00\x09{broken}"])
def test_arrow_garbage_is_a_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError):
        DataSource.from_arrow_bytes(payload)


class Forecast(DataSource):
    """A subclass with its own table, data parameter and extra state."""

    def __init__(self, name: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.scenario_tag = "baseline"
        self.data_parameters.setdefault("horizon", 7)
        if "forecast" not in self:
            self.add_table("forecast", pd.DataFrame({"day": [1, 2], "qty": [10.0, 12.5]}))

    def _to_json_extra(self) -> dict[str, Any]:
        return {"scenario_tag": self.scenario_tag}

    def _from_json_extra(self, extra: dict[str, Any]) -> None:
        self.scenario_tag = extra.get("scenario_tag", "baseline")


def test_subclass_round_trips_as_the_subclass_in_both_formats() -> None:
    source = Forecast("f", tables={"sku": pd.DataFrame({"sku": ["A"]})})
    source.scenario_tag = "peak"
    source.data_parameters["horizon"] = 28
    for back in (
        Forecast.from_json(source.to_json()),
        Forecast.from_arrow_bytes(source.to_arrow_bytes()),
    ):
        assert type(back) is Forecast
        assert back.scenario_tag == "peak"
        assert back.data_parameters == {"horizon": 28}
        assert back.list_tables() == ["sku", "forecast"]
        assert_same_tables(source, back)


class TableArraySource(DataSource):
    """A subclass that writes the array-rooted form."""

    def to_json(self) -> str:
        document = orjson.loads(super().to_json())
        return orjson.dumps(
            [{"name": name, **table} for name, table in document["tables"].items()]
        ).decode()


def test_array_rooted_payload_is_read() -> None:
    source = TableArraySource("d", tables={"a": every_dtype_frame(), "b": pd.DataFrame({"x": [1]})})
    payload = source.to_json()
    assert payload.startswith("[")
    back = TableArraySource.from_json(payload, name="from-array")
    assert isinstance(back, TableArraySource)
    assert back.name == "from-array"
    assert back.classification is DataClassification.MASTER_DATA
    assert_same_tables(source, back)


def test_array_rooted_payload_without_dtypes_infers_them() -> None:
    payload = b'[{"name": "t", "columns": ["a", "b"], "data": {"a": [1, 2], "b": ["x", null]}}]'
    table = DataSource.from_json(payload).get_table("t")
    assert table["a"].tolist() == [1, 2]
    assert table["b"].tolist()[0] == "x"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("42", "object or an array"),
        ('{"format": "other", "tables": {}}', "unknown payload format"),
        ('{"version": 99, "tables": {}}', "unsupported format version"),
        ('{"name": "x"}', "needs 'tables'"),
        ('{"tables": {"t": []}}', "must be a JSON object"),
        ('{"tables": {"t": {"columns": ["a"]}}}', "needs 'data'"),
        ('{"tables": {"t": {"columns": ["a"], "data": {}}}}', "no data for column 'a'"),
        ('{"tables": {"t": {"columns": ["a", "b"], "data": {"a": [1], "b": [1, 2]}}}}', "2 values"),
        (
            '{"tables": {"t": {"columns": ["a"], "dtypes": ["nope"], "data": {"a": [1]}}}}',
            "unknown dtype",
        ),
        (
            '{"tables": {"t": {"columns": ["a"], "dtypes": ["int64"], "data": {"a": [null]}}}}',
            "null",
        ),
        (
            '{"tables": {"t": {"columns": ["a"], "dtypes": ["float64"], "data": {"a": ["x"]}}}}',
            "not a number",
        ),
        (
            '{"tables": {"t": {"columns": ["a"], "dtypes": [], "data": {"a": [1]}}}}',
            "one entry per column",
        ),
        ('{"classification": "gold", "tables": {}}', "unknown classification"),
        ('{"created_at": "yesterday", "tables": {}}', "ISO 8601"),
        ('[{"columns": ["a"], "data": {"a": [1]}}]', "needs a non-empty 'name'"),
        ('[{"name": "t", "data": {"a": [1]}}, {"name": "t", "data": {"a": [1]}}]', "twice"),
    ],
)
def test_invalid_payload_is_a_clear_value_error(payload: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        DataSource.from_json(payload)


def test_unserialisable_tables_are_a_value_error() -> None:
    frame = pd.DataFrame([[1, 2]], columns=[1, 2])
    with pytest.raises(ValueError, match="must be strings"):
        DataSource("d", tables={"t": frame}).to_json()
    # duplicate names are refused earlier, when the table is added
    with pytest.raises(ValueError, match="duplicate column names"):
        DataSource("d", tables={"t": pd.DataFrame([[1, 2]], columns=["a", "a"])})


def test_derive_copies_tables_and_parameters_independently() -> None:
    source = DataSource("d", tables={"t": pd.DataFrame({"a": [1]})}, data_parameters={"p": [1]})
    derived = source.derive("d2")
    derived.get_table("t").loc[0, "a"] = 99
    derived.data_parameters["p"].append(2)
    assert source.get_table("t")["a"].tolist() == [1]
    assert source.data_parameters == {"p": [1]}
    assert derived.classification is DataClassification.DERIVED_DATA
    assert derived.id != source.id


def test_created_at_is_utc_aware() -> None:
    source = DataSource("d", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert DataSource.from_json(source.to_json()).created_at == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetimes_without_nat_round_trip_in_every_unit(unit: str) -> None:
    values = pd.to_datetime(
        ["1900-01-01 00:00:01", "2024-01-01 00:00:00.123456789", "2024-05-06"], format="ISO8601"
    ).astype(f"datetime64[{unit}]")
    frame = pd.DataFrame({"when": values})
    back = DataSource.from_json(DataSource("d", tables={"t": frame}).to_json())
    pd.testing.assert_frame_equal(back.get_table("t"), frame, check_exact=True)
