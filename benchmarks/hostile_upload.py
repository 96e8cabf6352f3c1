"""Hostile multipart bodies for the ETL upload (issue 23: the form parsed into
anonymous memory files, `algomancy_api.uploadform`), merged into
`benchmarks.hostile.cases()`: each must get a 4xx (or a failed ETL) naming what was
wrong, and leave nothing held."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from benchmarks.common import PREFIX

MiB = 1024 * 1024
M = f"{PREFIX}/sessions/main"
Case = Callable[[httpx.Client, str], str]
BOUNDARY = "hostile-boundary"


def _answer(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:90]}"


def _raw(body: bytes, boundary: str | None = BOUNDARY) -> Case:
    content_type = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")

    def send(client: httpx.Client, _: str) -> str:
        headers = {"content-type": content_type}
        return _answer(client.post(f"{M}/etl", content=body, headers=headers))

    return send


def _part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    )


def _form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def cases_upload() -> dict[str, Case]:
    name = _part("dataset_name", b"hostile-form")
    files = [_part("files", b"", f"f{n}.csv") for n in range(1001)]
    look_alikes = b"sku\r\n" + f"\r\n--{BOUNDARY[:-1]}\r\n-\r\n".encode() * (4 * MiB // 24)
    return {
        "upload form: 1,001 empty file parts": _raw(_form(name, *files)),
        "upload form: a 2 MiB dataset_name field": _raw(
            _form(_part("dataset_name", b"x" * 2 * MiB), _part("files", b"sku\n", "s.csv"))
        ),
        "upload form: 4 MiB of boundary look-alikes in a file": _raw(
            _form(name, _part("files", look_alikes, "sku_data.csv"))
        ),
        "upload form: no boundary": _raw(_form(name), boundary=None),
        "upload form: cut off inside a file": _raw(
            name + _part("files", b"sku\nA\n" * 1000, "sku_data.csv")[:-100]
        ),
    }
