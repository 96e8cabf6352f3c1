"""Unique-value and missing-value checks, declared on columns or listed on a factory."""

from __future__ import annotations

import pandas as pd
import pytest

from algomancy_data import Column, CSVFile, DefaultETLFactory, Schema, Severity, ValidationMessage
from algomancy_data.checks import MissingValues, UniqueValues

ORDERS = Schema(
    "orders",
    columns=[
        Column("order", "string", unique=True),
        Column("customer", "string"),
        Column("quantity", "integer"),
    ],
)


def run(text: str, *checks: object) -> list[ValidationMessage]:
    class Factory(DefaultETLFactory):
        pass

    Factory.checks = checks  # type: ignore[assignment]
    result = Factory([ORDERS]).run([CSVFile.from_bytes("orders.csv", text.encode())], "d")
    return result.messages


def test_a_unique_column_names_the_repeated_rows() -> None:
    [message] = run("order,customer,quantity\nA,x,1\nB,y,2\nA,z,3\n,q,4\n,r,5\n")
    assert (message.code, message.table, message.column, message.row) == (
        "duplicate_value",
        "orders",
        "order",
        1,
    )
    assert message.message.endswith(
        "2 rows repeat a value that must be unique; rows 1 ('A'), 3 ('A')"
    )


def test_unique_values_over_several_columns_is_a_composite_check() -> None:
    text = "order,customer,quantity\nA,x,1\nB,x,1\nC,y,1\nD,x,2\n"
    [message] = run(text, UniqueValues("orders", "customer", "quantity"))
    assert message.code == "duplicate_value" and message.column is None
    assert "column 'customer', 'quantity': 2 rows" in message.message
    assert message.message.endswith("rows 1, 2")


def test_missing_values_names_each_column_and_its_blank_rows() -> None:
    text = "order,customer,quantity\nA,x,1\nB, ,\nC,,3\n"
    messages = run(text, MissingValues("orders", "customer", "quantity"))
    assert [(m.code, m.column, m.row) for m in messages] == [
        ("missing_value", "customer", 2),
        ("missing_value", "quantity", 2),
    ]
    assert (
        messages[0].message == "table 'orders' column 'customer': 2 row(s) have no value; rows 2, 3"
    )


def test_missing_values_without_columns_checks_them_all_and_may_only_warn() -> None:
    messages = run(
        "order,customer,quantity\nA,,1\nB,y,\n", MissingValues("orders", severity=Severity.WARNING)
    )
    assert [(m.severity, m.column) for m in messages] == [
        (Severity.WARNING, "customer"),
        (Severity.WARNING, "quantity"),
    ]


def test_a_check_of_an_unknown_table_or_column_says_so() -> None:
    messages = run("order,customer,quantity\nA,x,1\n", UniqueValues("nope", "x"))
    assert [(m.code, m.severity) for m in messages] == [("unchecked_table", Severity.WARNING)]
    messages = run("order,customer,quantity\nA,x,1\n", MissingValues("orders", "colour"))
    assert [(m.code, m.column) for m in messages] == [("missing_column", "colour")]


def test_checks_are_plain_callables_over_tables() -> None:
    tables = {"t": pd.DataFrame({"a": [1, 1]})}
    messages: list[ValidationMessage] = []
    assert UniqueValues("t", "a")(tables, messages) is tables
    assert [m.code for m in messages] == ["duplicate_value"]
    with pytest.raises(ValueError, match="at least one column"):
        UniqueValues("t")
