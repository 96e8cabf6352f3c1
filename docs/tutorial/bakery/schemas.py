"""The two files a bakery uploads: its products and today's orders."""

from algomancy_data import Column, Schema

PRODUCTS = Schema(
    "products",
    extension="csv",
    description="One row per product: how it is baked and what it earns.",
    columns=[
        Column("product", "string", primary_key=True),
        Column("name", "string", required=False, default=""),
        Column("batch_size", "integer", nullable=False, description="Units per oven load"),
        Column("bake_minutes", "integer", nullable=False, description="Oven time per batch"),
        Column("margin_eur", "float", nullable=False, description="Margin per unit sold"),
    ],
)

ORDERS = Schema(
    "orders",
    extension="csv",
    description="Today's orders: who wants how many of what.",
    columns=[
        Column("order", "string", primary_key=True),
        Column("customer", "string", required=False, default=""),
        Column("product", "string", nullable=False),
        Column("quantity", "integer", nullable=False),
    ],
)

SCHEMAS = [PRODUCTS, ORDERS]
