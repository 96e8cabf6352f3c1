"""Foreign keys declared on columns: checked by the ETL, cascaded drops, the join helper."""

from __future__ import annotations

import pandas as pd
import pytest

from algomancy_data import Column, CSVFile, DefaultETLFactory, Schema, Severity
from algomancy_data.relations import ForeignKey, foreign_keys, join

SKUS = Schema(
    "skus", columns=[Column("sku", "string", primary_key=True), Column("weight", "float")]
)
LOCATIONS = Schema(
    "locations",
    columns=[
        Column("location", "string", primary_key=True),
        Column("sku", "string", references="skus.sku", drop_orphans=True),
    ],
)
PICKS = Schema(
    "picks",
    columns=[
        Column("pick", "integer", primary_key=True),
        Column("location", "string", references="locations.location", drop_orphans=True),
    ],
)
ORDERS = Schema(
    "orders",
    columns=[Column("order", "integer"), Column("sku", "string", references="skus.sku")],
)


def csv(name: str, text: str) -> CSVFile:
    return CSVFile.from_bytes(f"{name}.csv", text.encode())


def test_foreign_keys_are_read_from_the_columns() -> None:
    assert foreign_keys([SKUS, LOCATIONS, ORDERS]) == [
        ForeignKey("locations", "sku", "skus", "sku", drop_orphans=True),
        ForeignKey("orders", "sku", "skus", "sku"),
    ]


def test_an_orphan_fails_naming_table_column_and_first_rows() -> None:
    files = [
        csv("skus", "sku,weight\nA,1\nB,2\n"),
        csv("orders", "order,sku\n1,A\n2,X\n3,B\n4,Y\n5,\n"),
    ]
    result = DefaultETLFactory([SKUS, ORDERS]).run(files, "d")
    assert not result.is_success
    [message] = result.errors
    assert message.code == "foreign_key"
    assert (message.table, message.column, message.row) == ("orders", "sku", 2)
    assert message.message == (
        "table 'orders' column 'sku': 2 value(s) have no match in skus.sku; rows 2 ('X'), 4 ('Y')"
    )


def test_drop_orphans_cascades_to_rows_referring_to_dropped_rows() -> None:
    files = [
        csv("skus", "sku,weight\nA,1\n"),
        csv("locations", "location,sku\nL1,A\nL2,GONE\nL3,A\n"),
        csv("picks", "pick,location\n1,L1\n2,L2\n3,L3\n4,L2\n"),
    ]
    result = DefaultETLFactory([SKUS, LOCATIONS, PICKS]).run(files, "d")
    assert result.is_success, result.messages
    assert result.data_source is not None
    assert result.data_source.get_table("locations")["location"].tolist() == ["L1", "L3"]
    assert result.data_source.get_table("picks")["pick"].tolist() == [1, 3]
    dropped = [m for m in result.messages if m.code == "orphans_dropped"]
    assert [(m.severity, m.table, m.row) for m in dropped] == [
        (Severity.WARNING, "locations", 2),
        (Severity.WARNING, "picks", 2),
    ]
    assert dropped[1].message.endswith("rows 2 ('L2'), 4 ('L2')")


def test_a_reference_to_an_undeclared_table_or_column_is_refused() -> None:
    bad = Schema("orders", columns=[Column("sku", "string", references="products.sku")])
    with pytest.raises(ValueError, match="references the table 'products', which no schema"):
        DefaultETLFactory([SKUS, bad])
    bad = Schema("orders", columns=[Column("sku", "string", references="skus.code")])
    with pytest.raises(ValueError, match=r"references skus\.code, which the table does not"):
        DefaultETLFactory([SKUS, bad])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"references": "skus"}, "references must be 'table.column'"),
        ({"drop_orphans": True}, "drop_orphans needs references"),
    ],
)
def test_bad_declarations_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Column("sku", "string", **values)  # type: ignore[arg-type]


def test_an_absent_optional_table_is_not_checked_with_a_warning() -> None:
    optional = Schema("skus", columns=list(SKUS.columns or ()), required=False)
    result = DefaultETLFactory([optional, ORDERS]).run([csv("orders", "order,sku\n1,A\n")], "d")
    assert result.is_success
    assert [m.code for m in result.messages] == ["unchecked_reference"]


def test_codes_read_as_numbers_in_one_file_and_text_in_another_still_match() -> None:
    skus = Schema("skus", columns=[Column("sku", "integer", primary_key=True)])
    orders = Schema("orders", columns=[Column("sku", "string", references="skus.sku")])
    files = [csv("skus", "sku\n1\n2\n"), csv("orders", "sku\n1\n2\n3\n")]
    result = DefaultETLFactory([skus, orders]).run(files, "d")
    assert [(m.code, m.row) for m in result.errors] == [("foreign_key", 3)]


def test_join_follows_the_declared_key_either_way_round() -> None:
    tables = {
        "skus": pd.DataFrame({"sku": ["A", "B"], "weight": [1.0, 2.0]}),
        "orders": pd.DataFrame({"order": [1, 2, 3], "sku": ["B", "A", "B"]}),
    }
    joined = join(tables, "orders", "skus", [SKUS, ORDERS])
    assert joined.to_dict("list") == {
        "order": [1, 2, 3],
        "sku": ["B", "A", "B"],
        "weight": [2.0, 1.0, 2.0],
    }
    back = join(tables, "skus", "orders", [SKUS, ORDERS])
    assert back["order"].tolist() == [2, 1, 3]
    with pytest.raises(ValueError, match="no foreign key relates the tables 'skus' and 'picks'"):
        join(tables, "skus", "picks", [SKUS, ORDERS])


def test_the_factory_join_is_there_for_transform() -> None:
    class Joined(DefaultETLFactory):
        def transform(
            self, tables: dict[str, pd.DataFrame], messages: list[object]
        ) -> dict[str, pd.DataFrame]:
            return {**tables, "order_lines": self.join(tables, "orders", "skus")}

    files = [csv("skus", "sku,weight\nA,1.5\n"), csv("orders", "order,sku\n1,A\n")]
    result = Joined([SKUS, ORDERS]).run(files, "d")
    assert result.data_source is not None
    assert result.data_source.get_table("order_lines")["weight"].tolist() == [1.5]


def test_a_configuration_with_a_dangling_reference_is_refused() -> None:
    from algomancy_core import ConfigurationError, CoreConfig

    bad = Schema("orders", columns=[Column("sku", "string", references="products.sku")])
    with pytest.raises(ConfigurationError, match=r"^schemas: column 'sku' of table 'orders'"):
        CoreConfig(schemas=[SKUS, bad])
