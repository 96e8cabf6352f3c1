"""The two files the warehouse example is built from: the SKU master and the inventory."""

from __future__ import annotations

from algomancy_data import Column, Schema

SKU_DATA = Schema(
    "sku_data",
    extension="csv",
    description="One row per SKU: its product family, weight, demand and unit volume.",
    columns=[
        Column("sku", "string", primary_key=True, description="SKU code"),
        Column("description", "string", required=False, default="", description="Product name"),
        Column("family", "category", nullable=False, description="Product family"),
        Column("weight_kg", "float", nullable=False, description="Weight of one unit"),
        Column("picks_per_day", "float", nullable=False, description="Average picks per day"),
        Column("unit_volume_l", "float", nullable=False, description="Volume of one unit"),
    ],
)

INVENTORY = Schema(
    "inventory",
    extension="xlsx",
    description="Stock on hand per SKU and location (the as-is slotting) and the locations.",
    sheets={
        "stock": [
            Column("sku", "string", primary_key=True, description="SKU code"),
            Column("location", "string", primary_key=True, description="Where it is stored"),
            Column("quantity", "integer", nullable=False, description="Units on hand"),
        ],
        "locations": [
            Column("location", "string", primary_key=True, description="Location code"),
            Column("aisle", "integer", nullable=False),
            Column("bay", "integer", nullable=False),
            Column("level", "integer", nullable=False),
            Column(
                "distance_m",
                "float",
                nullable=False,
                description="Walking distance from the depot, one way",
            ),
            Column("capacity_l", "float", nullable=False, description="Volume it holds"),
        ],
    },
)

SCHEMAS = [SKU_DATA, INVENTORY]
