from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from algomancy_core.parameters import (
    BaseParameterSet,
    BooleanParameter,
    DateParameter,
    DateTimeParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    Interval,
    IntervalParameter,
    MultiEnumParameter,
    Parameter,
    ParameterError,
    StringParameter,
)


class AllTypes(BaseParameterSet):
    count = IntegerParameter(default=5, min=1, max=10, description="How many")
    ratio = FloatParameter(default=0.5, min=0.0, max=1.0)
    label = StringParameter(default="run", min_length=1, max_length=8)
    flag = BooleanParameter(default=False)
    mode = EnumParameter(choices=["fast", "slow"], default="fast")
    tags = MultiEnumParameter(choices=["a", "b", "c"], default=["a"])
    day = DateParameter(default="2024-01-15", min="2024-01-01", max="2024-12-31")
    moment = DateTimeParameter(default="2024-01-15T08:00:00+00:00")
    window = IntervalParameter(default={"start": "2024-01-01", "end": "2024-01-31"})
    shift = IntervalParameter(
        kind="datetime",
        default={"start": "2024-01-01T06:00:00", "end": "2024-01-01T14:00:00"},
    )


class NeedsValue(BaseParameterSet):
    size = IntegerParameter(description="No default, so it must be given")
    note = StringParameter(required=False)


def set_error(values: Any, parameter_set: BaseParameterSet | None = None) -> ParameterError:
    target = parameter_set if parameter_set is not None else AllTypes()
    with pytest.raises(ParameterError) as info:
        target.set_values(values)
    return info.value


# -- ParameterError -------------------------------------------------------------------


def test_parameter_error_is_a_value_error_naming_the_parameter() -> None:
    error = ParameterError("duration", "must be an integer between 1 and 60, got 0")
    assert isinstance(error, ValueError)
    assert error.parameter == "duration"
    assert str(error) == "duration: must be an integer between 1 and 60, got 0"


def test_parameter_error_without_parameter_is_just_the_message() -> None:
    error = ParameterError(None, "parameters must be a JSON object")
    assert error.parameter is None
    assert str(error) == "parameters must be a JSON object"


# -- defaults and good values ---------------------------------------------------------


def test_defaults_are_parsed_python_values() -> None:
    assert AllTypes().values() == {
        "count": 5,
        "ratio": 0.5,
        "label": "run",
        "flag": False,
        "mode": "fast",
        "tags": ["a"],
        "day": date(2024, 1, 15),
        "moment": datetime(2024, 1, 15, 8, tzinfo=UTC),
        "window": Interval(date(2024, 1, 1), date(2024, 1, 31)),
        "shift": Interval(datetime(2024, 1, 1, 6), datetime(2024, 1, 1, 14)),
    }


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("count", 1, 1),
        ("count", 10, 10),
        ("ratio", 1, 1.0),
        ("ratio", 0.25, 0.25),
        ("label", "x", "x"),
        ("label", "12345678", "12345678"),
        ("flag", True, True),
        ("mode", "slow", "slow"),
        ("tags", [], []),
        ("tags", ["c", "a"], ["c", "a"]),
        ("day", "2024-02-29", date(2024, 2, 29)),
        ("day", date(2024, 3, 1), date(2024, 3, 1)),
        ("moment", "2024-05-01T10:30:00Z", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("moment", "2024-05-01T10:30:00", datetime(2024, 5, 1, 10, 30)),
        (
            "moment",
            "2024-05-01T10:30:00+02:00",
            datetime(2024, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        (
            "window",
            {"start": "2024-03-01", "end": "2024-03-01"},
            Interval(date(2024, 3, 1), date(2024, 3, 1)),
        ),
        (
            "window",
            Interval(date(2024, 3, 1), date(2024, 3, 2)),
            Interval(date(2024, 3, 1), date(2024, 3, 2)),
        ),
        (
            "shift",
            {"start": "2024-01-01T22:00:00Z", "end": "2024-01-02T06:00:00Z"},
            Interval(datetime(2024, 1, 1, 22, tzinfo=UTC), datetime(2024, 1, 2, 6, tzinfo=UTC)),
        ),
    ],
)
def test_good_values_are_accepted(name: str, raw: Any, expected: Any) -> None:
    parameters = AllTypes({name: raw})
    assert getattr(parameters, name) == expected
    assert type(getattr(parameters, name)) is type(expected)
    assert parameters.values()[name] == expected


def test_float_parameter_returns_a_float_for_an_integer() -> None:
    assert isinstance(AllTypes({"ratio": 1}).ratio, float)


# -- bad values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("count", True, "count: must be an integer, got the boolean true"),
        ("count", 5.5, "count: must be an integer, got 5.5"),
        ("count", 5.0, "count: must be an integer, got 5.0"),
        ("count", "5", 'count: must be an integer, got the string "5"'),
        ("count", [5], "count: must be an integer, got the list [5]"),
        ("count", 0, "count: must be an integer between 1 and 10, got 0"),
        ("count", 11, "count: must be an integer between 1 and 10, got 11"),
        ("ratio", math.nan, "ratio: must be a finite number, got nan"),
        ("ratio", math.inf, "ratio: must be a finite number, got inf"),
        ("ratio", -math.inf, "ratio: must be a finite number, got -inf"),
        ("ratio", False, "ratio: must be a number, got the boolean false"),
        ("ratio", "0.5", 'ratio: must be a number, got the string "0.5"'),
        ("ratio", 1.5, "ratio: must be a number between 0.0 and 1.0, got 1.5"),
        ("label", 7, "label: must be a string, got 7"),
        ("label", "", 'label: must be at least 1 characters long, got the string ""'),
        ("label", "123456789", "label: must be at most 8 characters long"),
        ("flag", "false", 'flag: must be a boolean (true or false), got the string "false"'),
        ("flag", 0, "flag: must be a boolean (true or false), got 0"),
        ("flag", 1, "flag: must be a boolean (true or false), got 1"),
        ("mode", "medium", 'mode: must be one of "fast", "slow", got the string "medium"'),
        ("mode", 1, 'mode: must be one of "fast", "slow", got 1'),
        ("tags", "a", 'tags: must be a list of values from "a", "b", "c"'),
        ("tags", ["a", "a"], 'tags: items must be distinct, got the string "a" more than once'),
        ("tags", ["d"], 'tags: items must be from "a", "b", "c", got the string "d"'),
        ("day", "2024-13-01", 'day: must be a valid calendar date, got the string "2024-13-01"'),
        ("day", "2023-02-29", "day: must be a valid calendar date"),
        ("day", "15/01/2024", 'day: must be an ISO date "YYYY-MM-DD"'),
        ("day", "20240115", 'day: must be an ISO date "YYYY-MM-DD"'),
        ("day", "2024-01-15T00:00:00", 'day: must be an ISO date "YYYY-MM-DD"'),
        ("day", datetime(2024, 1, 15), "day: must be a date"),
        ("day", 20240115, 'day: must be an ISO date "YYYY-MM-DD", got 20240115'),
        ("day", "2023-12-31", "day: must be a date between 2024-01-01 and 2024-12-31"),
        ("moment", "yesterday", 'moment: must be an ISO 8601 date and time, got the string "'),
        ("moment", 1700000000, "moment: must be an ISO 8601 date and time, got 1700000000"),
        (
            "window",
            {"start": "2024-02-01", "end": "2024-01-01"},
            "window: end must not be before start, got start 2024-02-01 and end 2024-01-01",
        ),
        ("window", {"start": "2024-02-01"}, 'window: must be an object with "start" and "end"'),
        ("window", ["2024-01-01", "2024-01-02"], 'window: must be an object with "start"'),
        (
            "window",
            {"start": "2024-01-01T00:00:00", "end": "2024-01-02"},
            'window: start must be an ISO date "YYYY-MM-DD"',
        ),
        (
            "shift",
            {"start": "2024-01-01T10:00:00", "end": "2024-01-01T09:59:59"},
            "shift: end must not be before start",
        ),
        (
            "shift",
            {"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T11:00:00"},
            "shift: start and end must both have a time zone offset or both have none",
        ),
        ("shift", {"start": "noon", "end": "2024-01-01T11:00:00"}, "shift: start must be an ISO"),
    ],
)
def test_bad_values_raise_a_parameter_error_naming_the_rule(
    name: str, raw: Any, message: str
) -> None:
    error = set_error({name: raw})
    assert error.parameter == name
    assert str(error).startswith(message)


@pytest.mark.parametrize(
    ("parameter", "raw", "message"),
    [
        (IntegerParameter(min=1), 0, "must be >= 1, got 0"),
        (IntegerParameter(max=60), 61, "must be <= 60, got 61"),
        (FloatParameter(min=-1.5), -2, "must be >= -1.5, got -2"),
        (
            DateParameter(max=date(2024, 1, 1)),
            "2024-01-02",
            'must be <= 2024-01-01, got the string "2024-01-02"',
        ),
        (
            DateTimeParameter(min="2024-01-01T00:00:00+00:00"),
            "2023-12-31T23:00:00Z",
            'must be >= 2024-01-01T00:00:00+00:00, got the string "2023-12-31T23:00:00Z"',
        ),
        (
            IntervalParameter(min="2024-01-01", max="2024-01-31"),
            {"start": "2024-01-10", "end": "2024-02-01"},
            "end must be <= 2024-01-31, got 2024-02-01",
        ),
        (
            IntervalParameter(min="2024-01-01"),
            {"start": "2023-12-31", "end": "2024-01-01"},
            "start must be >= 2024-01-01, got 2023-12-31",
        ),
    ],
)
def test_single_bounds_name_the_bound(parameter: Parameter, raw: Any, message: str) -> None:
    parameter_set = type("OneBound", (BaseParameterSet,), {"value": parameter})()
    error = set_error({"value": raw}, parameter_set)
    assert str(error) == f"value: {message}"


def test_naive_datetimes_compare_to_aware_bounds_as_utc() -> None:
    class Bounded(BaseParameterSet):
        at = DateTimeParameter(min="2024-01-01T00:00:00Z", required=False)

    assert Bounded({"at": "2024-01-01T00:00:00"}).at == datetime(2024, 1, 1)
    assert set_error({"at": "2023-12-31T23:59:59"}, Bounded()).parameter == "at"


def test_enum_matches_choices_by_type() -> None:
    class Sizes(BaseParameterSet):
        size = EnumParameter(choices=[1, 2, 4], default=1)

    assert Sizes({"size": 4}).size == 4
    assert "got the boolean true" in str(set_error({"size": True}, Sizes()))
    assert "got 2.0" in str(set_error({"size": 2.0}, Sizes()))


def test_multi_enum_accepts_a_tuple_and_returns_a_list() -> None:
    assert AllTypes({"tags": ("b", "c")}).tags == ["b", "c"]


# -- names, required, null ------------------------------------------------------------


def test_unknown_name_is_an_error_naming_it() -> None:
    error = set_error({"count": 2, "colour": "red"})
    assert error.parameter == "colour"
    assert str(error).startswith("colour: unknown parameter (known parameters: count, ratio")


def test_several_unknown_names_are_all_named() -> None:
    error = set_error({"colour": "red", "size": 3})
    assert error.parameter is None
    assert str(error).startswith('unknown parameters "colour", "size"')


@pytest.mark.parametrize("values", [[("count", 2)], "count=2", 5, [1, 2]])
def test_values_must_be_a_mapping(values: Any) -> None:
    error = set_error(values)
    assert error.parameter is None
    assert str(error) == "parameters must be a JSON object"


@pytest.mark.parametrize("values", [None, {}])
def test_none_or_empty_values_give_the_defaults(values: Any) -> None:
    parameters = AllTypes({"count": 9})
    parameters.set_values(values)
    assert parameters.values() == AllTypes().values()


def test_set_values_replaces_all_values_with_defaults_under_the_given_ones() -> None:
    parameters = AllTypes({"count": 9, "flag": True})
    parameters.set_values({"flag": True})
    assert parameters.count == 5
    assert parameters.flag is True


def test_required_parameter_without_default_must_be_given() -> None:
    error = set_error({"note": "hi"}, NeedsValue())
    assert error.parameter == "size"
    assert "is required" in str(error)
    assert NeedsValue({"size": 3}).values() == {"size": 3, "note": None}


def test_parameter_set_without_values_leaves_a_required_parameter_unset() -> None:
    parameters = NeedsValue()
    assert parameters.size is None
    assert parameters.describe()[0]["value"] is None


def test_null_is_an_error_for_a_required_parameter() -> None:
    error = set_error({"count": None})
    assert str(error) == "count: is required and must not be null"


def test_null_is_accepted_for_an_optional_parameter() -> None:
    class Optional(BaseParameterSet):
        limit = IntegerParameter(default=3, required=False)

    parameters = Optional({"limit": None})
    assert parameters.limit is None
    assert parameters.to_json() == {"limit": None}
    assert NeedsValue({"size": 1, "note": None}).note is None


def test_explicit_default_none_makes_a_parameter_optional() -> None:
    parameter = StringParameter(default=None)
    assert parameter.required is False


def test_required_defaults_to_true_even_with_a_default() -> None:
    assert all(definition.required for definition in AllTypes.parameter_definitions())
    assert NeedsValue.note.required is False


# -- all or nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"count": 2, "flag": "true"},
        {"count": 2, "unknown": 1},
        {"flag": True, "window": {"start": "2024-02-01", "end": "2024-01-01"}},
    ],
)
def test_a_failed_set_values_leaves_the_set_unchanged(values: dict[str, Any]) -> None:
    parameters = AllTypes({"count": 7, "mode": "slow"})
    before = parameters.values()
    set_error(values, parameters)
    assert parameters.values() == before
    assert parameters.count == 7


def test_failed_required_check_leaves_the_set_unchanged() -> None:
    parameters = NeedsValue({"size": 4, "note": "kept"})
    set_error({"note": "lost"}, parameters)
    assert parameters.values() == {"size": 4, "note": "kept"}


# -- attribute access -----------------------------------------------------------------


def test_class_attribute_is_the_parameter_and_instance_attribute_the_value() -> None:
    assert isinstance(AllTypes.count, IntegerParameter)
    assert AllTypes.count.name == "count"
    assert AllTypes().count == 5


def test_assigning_an_attribute_validates_the_value() -> None:
    parameters = AllTypes()
    parameters.count = 8
    assert parameters.count == 8
    with pytest.raises(ParameterError, match="count: must be an integer"):
        parameters.count = "8"
    assert parameters.count == 8


def test_values_is_a_copy() -> None:
    parameters = AllTypes()
    parameters.values()["tags"].append("b")
    assert parameters.tags == ["a"]
    assert AllTypes().tags == ["a"]


# -- JSON round trip ------------------------------------------------------------------


def test_to_json_gives_json_values() -> None:
    assert AllTypes().to_json() == {
        "count": 5,
        "ratio": 0.5,
        "label": "run",
        "flag": False,
        "mode": "fast",
        "tags": ["a"],
        "day": "2024-01-15",
        "moment": "2024-01-15T08:00:00+00:00",
        "window": {"start": "2024-01-01", "end": "2024-01-31"},
        "shift": {"start": "2024-01-01T06:00:00", "end": "2024-01-01T14:00:00"},
    }


def test_to_json_round_trips_through_a_new_set() -> None:
    original = AllTypes(
        {
            "count": 3,
            "ratio": 0.75,
            "label": "again",
            "flag": True,
            "mode": "slow",
            "tags": ["c", "b"],
            "day": "2024-06-30",
            "moment": "2024-06-30T23:59:59.500000-05:00",
            "window": {"start": "2024-06-01", "end": "2024-06-30"},
            "shift": {"start": "2024-06-01T22:00:00Z", "end": "2024-06-02T06:00:00Z"},
        }
    )
    copy = AllTypes(original.to_json())
    assert copy == original
    assert copy.to_json() == original.to_json()
    assert copy.values() == original.values()


# -- describe -------------------------------------------------------------------------


def test_describe_integer_with_bounds() -> None:
    class SlowParameters(BaseParameterSet):
        duration = IntegerParameter(default=1, min=1, max=60, description="Seconds to run")

    assert SlowParameters.duration.describe() == {
        "name": "duration",
        "type": "integer",
        "required": True,
        "default": 1,
        "min": 1,
        "max": 60,
        "description": "Seconds to run",
    }
    described = SlowParameters().describe()
    assert described == [
        {
            "name": "duration",
            "type": "integer",
            "required": True,
            "value": 1,
            "default": 1,
            "min": 1,
            "max": 60,
            "description": "Seconds to run",
        }
    ]
    assert list(described[0]) == [
        "name",
        "type",
        "required",
        "value",
        "default",
        "min",
        "max",
        "description",
    ]


def test_describe_enum_and_multi_enum_give_choices() -> None:
    assert AllTypes.mode.describe() == {
        "name": "mode",
        "type": "enum",
        "required": True,
        "default": "fast",
        "choices": ["fast", "slow"],
    }
    assert AllTypes.tags.describe() == {
        "name": "tags",
        "type": "multi_enum",
        "required": True,
        "default": ["a"],
        "choices": ["a", "b", "c"],
    }


def test_describe_string_without_bounds_and_without_default() -> None:
    assert NeedsValue.note.describe() == {"name": "note", "type": "string", "required": False}
    assert NeedsValue.size.describe() == {
        "name": "size",
        "type": "integer",
        "required": True,
        "description": "No default, so it must be given",
    }


def test_describe_string_lengths() -> None:
    assert AllTypes.label.describe() == {
        "name": "label",
        "type": "string",
        "required": True,
        "default": "run",
        "min_length": 1,
        "max_length": 8,
    }


def test_describe_dates_and_intervals_use_iso_strings() -> None:
    assert AllTypes.day.describe() == {
        "name": "day",
        "type": "date",
        "required": True,
        "default": "2024-01-15",
        "min": "2024-01-01",
        "max": "2024-12-31",
    }
    assert AllTypes.moment.describe()["default"] == "2024-01-15T08:00:00+00:00"
    assert AllTypes.window.describe() == {
        "name": "window",
        "type": "interval",
        "required": True,
        "default": {"start": "2024-01-01", "end": "2024-01-31"},
        "kind": "date",
    }
    assert AllTypes.shift.describe()["kind"] == "datetime"


def test_describe_of_a_set_reports_current_json_values() -> None:
    described = AllTypes({"count": 2, "day": "2024-03-03"}).describe()
    by_name = {entry["name"]: entry for entry in described}
    assert [entry["name"] for entry in described] == [
        definition.name for definition in AllTypes.parameter_definitions()
    ]
    assert by_name["count"]["value"] == 2
    assert by_name["count"]["default"] == 5
    assert by_name["day"]["value"] == "2024-03-03"
    assert by_name["window"]["value"] == {"start": "2024-01-01", "end": "2024-01-31"}


def test_type_names() -> None:
    assert [definition.describe()["type"] for definition in AllTypes.parameter_definitions()] == [
        "integer",
        "float",
        "string",
        "boolean",
        "enum",
        "multi_enum",
        "date",
        "datetime",
        "interval",
        "interval",
    ]


# -- inheritance, equality, repr ------------------------------------------------------


class Base(BaseParameterSet):
    first = IntegerParameter(default=1)
    second = StringParameter(default="b")


class Child(Base):
    third = BooleanParameter(default=True)
    first = IntegerParameter(default=10, max=100)


def test_declarations_are_inherited_in_order_and_can_be_redeclared() -> None:
    assert [definition.name for definition in Child.parameter_definitions()] == [
        "first",
        "second",
        "third",
    ]
    assert Child().values() == {"first": 10, "second": "b", "third": True}
    assert Base().values() == {"first": 1, "second": "b"}
    assert "first: must be <= 100" in str(set_error({"first": 101}, Child()))
    assert Base({"first": 101}).first == 101


def test_base_parameter_set_has_no_parameters() -> None:
    assert BaseParameterSet.parameter_definitions() == []
    assert BaseParameterSet().to_json() == {}


def test_equality_compares_type_and_values() -> None:
    assert Base() == Base({"first": 1})
    assert Base() != Base({"first": 2})
    assert Base() != Child()


def test_repr_shows_the_values() -> None:
    assert repr(Base({"second": "x"})) == "Base(first=1, second='x')"


# -- invalid declarations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        (IntegerParameter(default=0, min=1), "bad: invalid default: must be >= 1, got 0"),
        (IntegerParameter(default=61, min=1, max=60), "bad: invalid default: must be an integer"),
        (IntegerParameter(min=5, max=1), "bad: invalid declaration: min 5 is greater than max 1"),
        (IntegerParameter(default=True), "bad: invalid default: must be an integer"),
        (
            IntegerParameter(min=1.5),  # type: ignore[arg-type]
            "bad: invalid declaration: min must be an integer",
        ),
        (FloatParameter(max=math.inf), "bad: invalid declaration: max must be finite"),
        (FloatParameter(default=2.0, max=1.0), "bad: invalid default: must be <= 1.0"),
        (StringParameter(min_length=3, max_length=2), "bad: invalid declaration: min_length 3"),
        (StringParameter(default="", min_length=1), "bad: invalid default: must be at least"),
        (BooleanParameter(default="false"), "bad: invalid default: must be a boolean"),
        (EnumParameter(choices=[]), "bad: invalid declaration: choices must not be empty"),
        (EnumParameter(choices=["a", "a"]), 'bad: invalid declaration: choices contain "a"'),
        (EnumParameter(choices=["a"], default="b"), 'bad: invalid default: must be one of "a"'),
        (MultiEnumParameter(choices=[]), "bad: invalid declaration: choices must not be empty"),
        (MultiEnumParameter(choices=["a"], default=["b"]), "bad: invalid default: items must"),
        (DateParameter(min="2024-02-01", max="2024-01-01"), "bad: invalid declaration: min"),
        (DateParameter(min="yesterday"), "bad: invalid declaration: min must be an ISO date"),
        (DateParameter(default="2023-01-01", min="2024-01-01"), "bad: invalid default"),
        (DateTimeParameter(default="later"), "bad: invalid default: must be an ISO 8601"),
        (
            IntervalParameter(default={"start": "2024-02-01", "end": "2024-01-01"}),
            "bad: invalid default: end must not be before start",
        ),
        (IntervalParameter(kind="week"), 'bad: invalid declaration: kind must be "date"'),  # type: ignore[arg-type]
        (StringParameter(default=None, required=True), "bad: default None requires"),
    ],
)
def test_invalid_declarations_fail_when_the_class_is_defined(
    parameter: Parameter, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        type("Broken", (BaseParameterSet,), {"bad": parameter})
    assert type(info.value) is ValueError
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("name", ["values", "describe", "to_json", "set_values", "_private"])
def test_parameter_names_may_not_shadow_the_set_api(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name}: this name is reserved"):
        type("Shadowing", (BaseParameterSet,), {name: IntegerParameter(default=1)})


def test_interval_kind_is_inferred_from_the_default() -> None:
    parameter = IntervalParameter(default=Interval(datetime(2024, 1, 1), datetime(2024, 1, 2)))
    type("Inferred", (BaseParameterSet,), {"span": parameter})
    assert parameter.kind == "datetime"
    assert IntervalParameter().kind == "date"
