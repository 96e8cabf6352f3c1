"""Hostile workbooks (parsed in the child pool) and XLSX downloads, merged into
`benchmarks.hostile.cases()`."""

from __future__ import annotations

import concurrent.futures
import io
import itertools
import json
import random
import time

import httpx
import openpyxl

from benchmarks.hostile_requests import (
    DATA,
    Case,
    Content,
    M,
    MiB,
    answer_of,
    body,
    dataset_document,
    etl,
    from_json,
    lazily,
)
from tests import hostile


def many_cells_workbook(rows: int = 10_000, columns: int = 1_000) -> bytes:
    """`rows` x `columns` cells of numbers 0-99 (10 million by default, about
    9 MiB zipped), inside every limit."""
    rng = random.Random(7)
    distinct = [
        b"<row>"
        + b"".join(b"<c><v>%d</v></c>" % rng.randrange(100) for _ in range(columns))
        + b"</row>"
        for _ in range(64)
    ]
    body = b"".join(distinct[rng.randrange(64)] for _ in range(rows))
    return hostile.workbook(hostile.sheet_xml([]).replace(b"<sheetData>", b"<sheetData>" + body))


def formula_sheet_workbook(size: int = 256 * 1024) -> bytes:
    """A sheet of `size` bytes of formula starts outside cells (quadratic for a
    rewrite that searches back or ahead from each)."""
    return hostile.workbook(hostile.sheet_xml([hostile.HEADER]) + b"<f>1</f>" * (size // 8))


def concurrent_uploads(base: str, content: bytes, count: int = 3) -> str:
    sku = (DATA / "sku_data.csv").read_bytes()

    def one(i: int) -> str:
        with httpx.Client(base_url=base, timeout=600) as client:
            return etl(client, ("sku_data.csv", sku), ("inventory.xlsx", content))[:80]

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return " | ".join(pool.map(one, range(count)))


def download(
    client: httpx.Client, name: str, table: str, frame_data: dict[str, list[object]]
) -> str:
    """A table posted through from-json, downloaded as XLSX: the answer, and the
    header and first row as openpyxl reads them back."""
    columns = list(frame_data)
    dtypes = ["int64" if isinstance(frame_data[c][0], int) else "str" for c in columns]
    document = dataset_document(
        name=name, tables={table: {"columns": columns, "dtypes": dtypes, "data": frame_data}}
    )
    posted = from_json(client, json.dumps(document).encode())
    if not posted.startswith("201"):
        return f"from-json: {posted}"
    response = client.get(f"{M}/data/{name}/tables/{table}/download", params={"format": "xlsx"})
    if response.status_code != 200:
        return answer_of(response)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(itertools.islice(sheet.iter_rows(values_only=True), 2)) if sheet else []
    return f"200 {len(response.content)} bytes; rows read back: {rows!r}"[:160]


def cases_xlsx() -> dict[str, Case]:
    """Workbooks parsed in the child pool, and XLSX downloads."""
    sku = (DATA / "sku_data.csv").read_bytes()

    def inventory(content: Content) -> Case:
        return lambda c, _: etl(c, ("sku_data.csv", sku), ("inventory.xlsx", body(content)))

    def lying_bomb() -> bytes:
        bomb = hostile.bomb_workbook(1024 * MiB)
        return hostile.lying_directory(bomb, "xl/worksheets/sheet1.xml")

    lying = lazily(lying_bomb)
    many = lazily(many_cells_workbook)
    formula = '=HYPERLINK("http://example.invalid","x")'
    return {
        "xlsx: far cell at xl/sheets/sheet1.xml": inventory(
            hostile.far_cell_at("xl/sheets/sheet1.xml")
        ),
        "xlsx: far cell at xl/worksheets/sheet1.XML": inventory(
            hostile.far_cell_at("xl/worksheets/sheet1.XML")
        ),
        "xlsx: directory says 1,000 bytes, inflates 1 GiB": inventory(lying),
        "xlsx: 256 KiB of formula starts": inventory(lazily(formula_sheet_workbook)),
        "xlsx: 10M cells, 13 MiB": inventory(many),
        "xlsx: 10M cells, 3 at once": lambda _, base: concurrent_uploads(base, many()),
        "download xlsx: formula column name, control chars": lambda c, _: download(
            c, f"heads-{time.monotonic_ns()}", "t", {formula: ["a\x01b"], "b\x02": ["=1+1"]}
        ),
        "download xlsx: 1,048,576 rows": lambda c, _: download(
            c, f"tall-{time.monotonic_ns()}", "t", {"a": list(range(1_048_576))}
        ),
        "download xlsx: 5M cells": lambda c, _: download(
            c,
            f"five-{time.monotonic_ns()}",
            "t",
            {f"c{i}": list(range(500_000)) for i in range(10)},
        ),
        "download xlsx: 1.9M cells": lambda c, _: download(
            c, f"two-{time.monotonic_ns()}", "t", {f"c{i}": list(range(190_000)) for i in range(10)}
        ),
    }
