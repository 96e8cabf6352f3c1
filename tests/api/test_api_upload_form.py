"""The ETL upload's multipart body parsed in memory (`algomancy_api.uploadform`):
the same form as Starlette's parser, in any chunking; no temporary file; the same
400 answers."""

from __future__ import annotations

import gc
import os
import tempfile
import warnings
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartParser

from algomancy_api.etlchild import upload_source
from algomancy_api.uploadform import HeldFile, HeldFileParser
from algomancy_data import Column, Schema

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
ITEMS = Schema(
    "items",
    extension="csv",
    columns=[Column("sku", "string", primary_key=True), Column("qty", "integer", nullable=False)],
)


def encoded(files: list[tuple[str, bytes]], **fields: str) -> tuple[bytes, Headers]:
    request = httpx.Request(
        "POST",
        "http://x/",
        data=fields,
        files=[("files", (name, content, "text/csv")) for name, content in files],
    )
    return request.read(), Headers({"content-type": request.headers["content-type"]})


def parsed(parser: type[MultiPartParser], body: bytes, headers: Headers, chunk: int) -> Any:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    async def parse() -> list[tuple[str, Any]]:
        form: FormData = await parser(headers, stream()).parse()
        items: list[tuple[str, Any]] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                await value.seek(0)
                content = await value.read()
                items.append((key, (value.filename, value.size, value.headers.raw, content)))
            else:
                items.append((key, value))
        await form.close()
        return items

    return anyio.run(parse)


@pytest.mark.parametrize("chunk", [1, 7, 64, 65536, 10**9])
def test_the_form_is_starlettes_in_any_chunking(chunk: int) -> None:
    # Data that looks like the start of a boundary makes the parser hold bytes back
    # (its look-behind): they must come out in order, once.
    first = b"sku,qty\r\n--\r\n-\r\nA,1\r\n" * 50
    body, headers = encoded(
        [
            ("a.csv", first),
            ("b.csv", b""),
            ("c.csv", bytes(range(256)) * 40),
        ],
        dataset_name="d",
    )
    held = parsed(HeldFileParser, body, headers, chunk)
    assert held == parsed(MultiPartParser, body, headers, chunk)
    assert [key for key, _ in held] == ["dataset_name", "files", "files", "files"]
    assert held[1][1][3] == first and held[1][1][1] == len(first)


def test_a_held_file_is_an_anonymous_memory_file_the_etl_child_opens_by_path() -> None:
    with HeldFile() as held:
        held.write(b"sku,qty\n" * 1000)
        assert os.readlink(f"/proc/self/fd/{held.fileno()}").startswith("/memfd:")
        source = upload_source(UploadFile(held))  # type: ignore[arg-type]
        assert isinstance(source, str)
        with open(source, "rb") as again:  # as the child opens it
            assert again.read() == b"sku,qty\n" * 1000


def test_an_upload_over_starlettes_spool_size_touches_no_temporary_file(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Starlette spools a file over 1 MB to disk and writes each chunk there in the
    # thread pool (15-20 ms of CPU for 8.5 MB): the upload is held in memory instead.
    rolled: list[int] = []
    rollover = tempfile.SpooledTemporaryFile.rollover

    def spy(self: Any) -> None:
        rolled.append(1)
        rollover(self)

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", spy)
    client = make_client(schemas=[ITEMS])
    content = b"sku,qty\n" + b"".join(b"S%07d,%d\n" % (n, n % 7) for n in range(200_000))
    assert len(content) > 2 * 1024 * 1024
    r = client.post(
        f"{M}/etl", data={"dataset_name": "d"}, files=[("files", ("items.csv", content))]
    )
    assert r.status_code == 200 and r.json()["success"], r.text
    assert not rolled
    frame = client.get(f"{M}/data/d/tables/items/frame?limit=1&offset=199999").json()
    assert frame["rows"] == [{"sku": "S0199999", "qty": 199_999 % 7}]


def test_refusals_are_starlettes_400s(make_client: ClientFactory) -> None:
    client = make_client(schemas=[ITEMS])
    too_long = "x" * (1024 * 1024 + 1)  # a field over Starlette's max_part_size
    body, headers = encoded([("items.csv", b"sku,qty\nA,1\n")], dataset_name=too_long)
    r = client.post(f"{M}/etl", content=body, headers=dict(headers))
    assert r.status_code == 400 and "maximum size" in r.json()["detail"], r.text
    r = client.post(
        f"{M}/etl",
        content=b"--xx\r\nContent-Disposition: form-data\r\n\r\nA\r\n--xx--\r\n",
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    assert r.status_code == 400 and '"name"' in r.json()["detail"], r.text
    r = client.post(f"{M}/etl", content=b"no form", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400 and "boundary" in r.json()["detail"], r.text


def held_files() -> list[str]:
    """This process's open upload memory files."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed meanwhile
            continue
        if target.startswith("/memfd:algomancy-upload"):
            found.append(target)
    return found


def test_every_memory_file_is_closed_with_its_request(make_client: ClientFactory) -> None:
    client = make_client(schemas=[ITEMS])
    body, headers = encoded([("items.csv", b"sku,qty\nA,1\n" * 1000)], dataset_name="d")
    assert client.post(f"{M}/etl", content=body, headers=dict(headers)).status_code == 200
    assert held_files() == []
    # Cut off inside the file: that part never ends, so it is not in the form; its
    # memory file is closed, not left to the garbage collector ("unclosed file").
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        r = client.post(f"{M}/etl", content=body[:-100], headers=dict(headers))
        gc.collect()
    assert r.status_code == 400 and "No files" in r.json()["detail"], r.text
    assert held_files() == []
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
