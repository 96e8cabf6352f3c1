import httpx

with open("sku_data.csv", "rb") as csv, open("inventory.xlsx", "rb") as xlsx:
    r = httpx.post(
        "http://127.0.0.1:8051/api/v1/sessions/main/etl",
        data={"dataset_name": "uploaded"},
        files=[
            ("files", ("sku_data.csv", csv, "text/csv")),
            (
                "files",
                (
                    "inventory.xlsx",
                    xlsx,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
        ],
    )
    r.raise_for_status()
