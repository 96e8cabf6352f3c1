"""The bakery's ETL: the schemas' checks, then the rules that span both files."""

import pandas as pd

from algomancy_data import ETLFactory, Severity, ValidationMessage
from bakery.schemas import SCHEMAS


class BakeryETL(ETLFactory):
    """Reads ``products.csv`` and ``orders.csv``; adds the table ``demand``."""

    schemas = tuple(SCHEMAS)

    def transform(
        self, tables: dict[str, pd.DataFrame], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        products, orders = tables["products"], tables["orders"]
        unknown = sorted(set(orders["product"]) - set(products["product"]))
        if unknown:
            messages.append(
                ValidationMessage(
                    Severity.ERROR,
                    f"orders name products that do not exist: {', '.join(unknown)}",
                    table="orders",
                    column="product",
                    code="unknown_product",
                )
            )
        for table, column in (("orders", "quantity"), ("products", "batch_size")):
            bad = tables[table][column] <= 0
            if bad.any():
                messages.append(
                    ValidationMessage(
                        Severity.ERROR,
                        f"table {table!r} column {column!r} must be positive",
                        table=table,
                        column=column,
                        row=int(bad.to_numpy().nonzero()[0][0]) + 1,
                        code="not_positive",
                    )
                )
        # What the algorithms need most: the units ordered per product.
        demand = orders.groupby("product", as_index=False, sort=True)["quantity"].sum()
        return {**tables, "demand": demand}
