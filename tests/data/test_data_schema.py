import pytest

from algomancy_data import Column, ColumnType, Schema


def test_declaring_a_schema_is_a_few_readable_lines() -> None:
    sku = Schema(
        "sku_data",
        extension="csv",
        columns=[
            Column("sku", "string", primary_key=True),
            Column("weight_kg", "float", required=True, nullable=False),
            Column("family", "category", required=False, default="misc"),
        ],
    )
    assert sku.filename == "sku_data.csv"
    assert list(sku.tables) == ["sku_data"]
    key = sku.tables["sku_data"][0]
    assert key.type is ColumnType.STRING
    assert (key.required, key.nullable, key.primary_key) == (True, False, True)


def test_sheet_schema_has_one_table_per_sheet() -> None:
    inventory = Schema(
        "inventory",
        extension=".XLSX",
        sheets={"stock": [Column("sku")], "locations": [Column("location", "string")]},
    )
    assert inventory.extension == "xlsx"
    assert inventory.has_sheets
    assert list(inventory.tables) == ["stock", "locations"]


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: Column("x", "decimal"), "unknown type 'decimal'"),
        (lambda: Column(" ", "string"), "non-empty"),
        (lambda: Column("x", "string", categories=["a"]), "categories need the type"),
        (lambda: Schema("s", extension="parquet", columns=[]), "not one of"),
        (lambda: Schema("s", extension="csv"), "either columns or sheets"),
        (lambda: Schema("s", extension="csv", sheets={"a": []}), "one table"),
        (lambda: Schema("s", columns=[Column("a"), Column("a")]), "repeats a column"),
        (lambda: Schema("s", extension="xlsx", sheets={}), "must not be empty"),
    ],
)
def test_bad_declarations_are_value_errors(build: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        build()  # type: ignore[operator]
