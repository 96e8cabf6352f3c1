"""Extractors registered per file extension: schemas, the ETL and uploads accept them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_data import (
    Column,
    DefaultETLFactory,
    File,
    FileReadError,
    ReadLimits,
    Schema,
    Severity,
)
from algomancy_data.extractors import extensions, file_for, register_extractor, unregister_extractor
from tests.api.conftest import PREFIX, api_config


def read_tsv(data: bytes, column_types: dict[str, str]) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep="\t", dtype=str)


def read_sheets(data: bytes, column_types: dict[str, str]) -> dict[str, pd.DataFrame]:
    first, second = data.decode().split("---\n")
    return {
        "left": pd.read_csv(io.StringIO(first)),
        "right": pd.read_csv(io.StringIO(second)),
    }


@pytest.fixture
def tsv() -> Iterator[None]:
    register_extractor("tsv", read_tsv)
    yield
    unregister_extractor("tsv")


def tsv_items() -> Schema:
    """Built once `tsv` is registered (a schema checks its extension is known)."""
    return Schema(
        "items",
        extension="tsv",
        columns=[Column("sku", "string", primary_key=True), Column("qty", "integer")],
    )


def test_a_registered_extension_is_read_by_its_function(tsv: None) -> None:
    schema = Schema("items", extension="tsv", columns=[Column("sku", "string")])
    assert "tsv" in extensions()
    file = file_for("items.tsv", b"sku\tqty\n007\t3\n")
    assert file.extension == "tsv"
    result = DefaultETLFactory([schema]).run([file], "d")
    assert result.is_success and result.data_source is not None
    assert result.data_source.get_table("items")["sku"].tolist() == ["007"]


def test_a_schema_refuses_an_extension_nobody_reads() -> None:
    with pytest.raises(ValueError, match="extension 'tsv' is not one of csv, json, xlsx"):
        Schema("items", extension="tsv", columns=[Column("sku")])


def test_a_reader_may_return_a_table_per_sheet() -> None:
    register_extractor("pair", read_sheets)
    try:
        schema = Schema(
            "both", extension="pair", sheets={"left": [Column("a")], "right": [Column("b")]}
        )
        file = file_for("both.pair", b"a\n1\n---\nb\n2\n")
        result = DefaultETLFactory([schema]).run([file], "d")
        assert result.data_source is not None
        assert result.data_source.list_tables() == ["left", "right"]
    finally:
        unregister_extractor("pair")


def test_a_failing_reader_is_a_critical_message_not_an_exception(tsv: None) -> None:
    def broken(data: bytes, column_types: dict[str, str]) -> pd.DataFrame:
        raise RuntimeError("bad magic")

    register_extractor("tsv", broken, replace=True)
    result = DefaultETLFactory([tsv_items()]).run([file_for("items.tsv", b"x")], "d")
    [message] = result.messages
    assert (message.severity, message.code) == (Severity.CRITICAL, "unreadable_file")
    assert message.message == "items.tsv cannot be read: bad magic"


def test_a_registered_reader_keeps_the_size_limits(tsv: None) -> None:
    file = file_for("items.tsv", b"sku\tqty\n" + b"a\t1\n" * 20, ReadLimits(max_table_cells=10))
    with pytest.raises(FileReadError, match="max_table_cells"):
        file.read()


def test_registering_twice_or_a_bad_extension_is_refused(tsv: None) -> None:
    with pytest.raises(ValueError, match=r"\.tsv has a reader already"):
        register_extractor("tsv", read_tsv)
    with pytest.raises(ValueError, match=r"\.csv has a reader already"):
        register_extractor("csv", read_tsv)
    with pytest.raises(ValueError, match="use letters, digits"):
        register_extractor("../x", read_tsv)
    with pytest.raises(TypeError):
        register_extractor("bin", int)  # type: ignore[arg-type]


def test_a_file_subclass_can_be_registered() -> None:
    class Lines(File):
        def read(self, column_types: object = None) -> dict[str, pd.DataFrame]:
            return {self.name: pd.DataFrame({"line": self.data.decode().splitlines()})}

    register_extractor("lines", Lines)
    try:
        assert file_for("notes.lines", b"a\nb\n").read()["notes"]["line"].tolist() == ["a", "b"]
    finally:
        unregister_extractor("lines")


def test_uploads_accept_a_registered_extension(tsv: None) -> None:
    app = ApiLauncher.build(api_config(schemas=[tsv_items()]))
    with TestClient(app) as client:
        answer = client.post(
            f"{PREFIX}/sessions/main/etl",
            data={"dataset_name": "tab"},
            files=[("files", ("items.tsv", b"sku\tqty\nA\t2\n", "text/tab-separated-values"))],
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["success"] is True
        refused = client.post(
            f"{PREFIX}/sessions/main/etl",
            data={"dataset_name": "tab"},
            files=[("files", ("items.parquet", b"x", "application/octet-stream"))],
        )
        assert refused.status_code == 400
        assert "is not one of csv, json, xlsx, tsv" in refused.json()["detail"]
