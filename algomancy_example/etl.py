"""`WarehouseETLFactory`: the schemas' checks plus the cross-table rules of a warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from algomancy_data import ETLFactory, Schema, Severity, ValidationMessage
from algomancy_data.lazy import lazy_module
from algomancy_example.schemas import SCHEMAS

if TYPE_CHECKING:
    import pandas as pd
else:
    # Imported when a run or an upload first needs them: a server restarted over its
    # data starts without pandas (`algomancy_data.lazy`).
    pd = lazy_module("pandas")


#: Tables a dataset of this domain holds after the ETL.
TABLES = ("sku_data", "stock", "locations")


class WarehouseETLFactory(ETLFactory):
    """Reads ``sku_data.csv`` and ``inventory.xlsx`` (sheets ``stock`` and ``locations``).

    Both files are required: slotting needs the SKUs' demand and the locations, so an
    upload with only one of them fails with a ``missing_file`` error naming the other.
    Beyond the schemas, negative demand, volumes or quantities and locations without
    capacity are errors; stock of an unknown SKU or in an unknown location is a warning
    (that stock is ignored by the algorithms).
    """

    schemas: Sequence[Schema] = tuple(SCHEMAS)

    def transform(
        self, tables: dict[str, pd.DataFrame], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        skus, stock, locations = (tables[name] for name in TABLES)
        for table, column, frame in (
            ("sku_data", "picks_per_day", skus),
            ("sku_data", "unit_volume_l", skus),
            ("sku_data", "weight_kg", skus),
            ("stock", "quantity", stock),
            ("locations", "distance_m", locations),
        ):
            _check(messages, frame, table, column, frame[column] < 0, "is negative")
        _check(
            messages,
            locations,
            "locations",
            "capacity_l",
            locations["capacity_l"] <= 0,
            "is not a positive volume",
        )
        _warn_unknown(messages, stock, "sku", skus["sku"], "SKU")
        _warn_unknown(messages, stock, "location", locations["location"], "location")
        return tables


def _check(
    messages: list[ValidationMessage],
    frame: pd.DataFrame,
    table: str,
    column: str,
    mask: pd.Series,
    problem: str,
) -> None:
    if not mask.any():
        return
    rows = [int(i) + 1 for i in mask.to_numpy().nonzero()[0]]
    shown = ", ".join(str(r) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
    messages.append(
        ValidationMessage(
            Severity.ERROR,
            f"table {table!r} column {column!r}: {len(rows)} value(s) {problem}; rows {shown}",
            table,
            column,
            rows[0],
            "invalid_value",
        )
    )


def _warn_unknown(
    messages: list[ValidationMessage],
    stock: pd.DataFrame,
    column: str,
    known: pd.Series,
    noun: str,
) -> None:
    unknown = sorted(set(stock[column]) - set(known))
    if unknown:
        shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
        messages.append(
            ValidationMessage(
                Severity.WARNING,
                f"table 'stock': {len(unknown)} {noun}(s) not declared elsewhere, their "
                f"stock is ignored: {shown}",
                "stock",
                column,
                code="unknown_reference",
            )
        )
