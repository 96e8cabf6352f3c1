"""The ETL upload's multipart body, parsed in memory: `UploadRoute`.

Starlette's parser (`starlette.formparsers.MultiPartParser`) spools each file of a
form to a temporary file once it passes 1 MB, and from then on writes every chunk
of the body (64-256 KB as uvicorn hands them over) to that file in the thread pool:
one thread hop per chunk, a disk write, and the ETL reads the file back. For the
8.5 MB CSV of ``python -m benchmarks.etl_csv`` that was 15-20 ms of CPU of an upload
whose ETL takes about 30.

`HeldFileParser` is that parser with the files' data kept as received: a file
part's chunks are held as views of the body's chunks (no copy) and joined once at the
end of the part, into one in-memory file (`HeldFile`) whose `read()` hands back
that joined buffer itself. Its fields, limits (``max_files``, ``max_fields``,
``max_part_size`` for fields), answers (400 naming what was wrong) and the
`UploadFile` objects it gives are Starlette's. Holding an upload in memory is
bounded as the body is: `algomancy_api.middleware.bodysize.BodySizeLimit` (413 over
``max_upload_bytes``, at most ``max_uploads_in_flight_bytes`` of bodies at once).

`UploadRoute` is the route class of ``POST …/etl`` that parses with it (FastAPI's
"custom Request and APIRoute class"), so that no other route changes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser


class HeldFile(io.BytesIO):
    """An upload's bytes in memory, for `UploadFile`: ``_rolled`` False tells
    Starlette (and `algomancy_api.etlchild.upload_source`) that it is not on disk, so
    reads are direct, not in the thread pool. Made from the joined bytes, it shares
    them: ``read()`` from the start returns that very object."""

    _rolled = False


class HeldFileParser(MultiPartParser):
    """Starlette's multipart parser with files kept in memory (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: list[bytes | memoryview] = []

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._held = []

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            super().on_part_data(data, start, end)  # a field: its size limit applies
        elif type(data) is bytes:
            # A view of the body's chunk (immutable) instead of a copy of the slice.
            self._held.append(memoryview(data)[start:end])
        else:
            self._held.append(bytes(data[start:end]))

    def on_part_end(self) -> None:
        upload = self._current_part.file
        if upload is not None:
            content = b"".join(self._held)
            self._held = []
            upload.file.close()  # Starlette's empty spooled file, replaced
            upload.file = HeldFile(content)
            upload.size = len(content)
        super().on_part_end()


class HeldFileRequest(Request):
    """A request whose multipart form is parsed by `HeldFileParser`."""

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is None and self.headers.get("content-type", "").lower().startswith(
            "multipart/form-data"
        ):
            try:
                async with aclosing(self.stream()) as stream:
                    parser = HeldFileParser(
                        self.headers,
                        stream,
                        max_files=max_files,
                        max_fields=max_fields,
                        max_part_size=max_part_size,
                    )
                    self._form = await parser.parse()
            except MultiPartException as exc:
                raise HTTPException(status_code=400, detail=exc.message) from None
        # Starlette's: the parsed form, or another content type parsed as before.
        return await super()._get_form(
            max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
        )


class UploadRoute(APIRoute):
    """A route whose multipart body is parsed in memory (`HeldFileRequest`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def held(request: Request) -> Response:
            return await handler(HeldFileRequest(request.scope, request.receive))

        return held
