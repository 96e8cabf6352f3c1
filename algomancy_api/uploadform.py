"""The ETL upload's multipart body, parsed in memory: `UploadRoute`.

Starlette's parser (`starlette.formparsers.MultiPartParser`) spools each file of a
form to a temporary file once it passes 1 MB, and from then on writes every chunk
of the body (64-256 KB as uvicorn hands them over) to that file in the thread pool:
one thread hop per chunk, a disk write, and the ETL reads the file back. For the
8.5 MB CSV of ``python -m benchmarks.etl_csv`` that was 15-20 ms of CPU of an upload
whose ETL takes about 30.

`HeldFileParser` is that parser with each file written, as its data arrives and in
the event loop, to an anonymous memory file (`HeldFile`, ``memfd_create``): one
copy, no thread hop, no disk, ~5 ms of CPU for 8.5 MB. The ETL reads it back (in
the server) or the ETL child opens it by its path, as it opened Starlette's spooled
file. Its fields, limits (``max_files``, ``max_fields``, ``max_part_size`` for
fields), answers (400 naming what was wrong) and the `UploadFile` objects it gives
are Starlette's. The memory held is bounded as the body is:
`algomancy_api.middleware.bodysize.BodySizeLimit` (413 over ``max_upload_bytes``, at
most ``max_uploads_in_flight_bytes`` of bodies at once); it is the kernel's, given
back when the request ends (a copy on the server's heap instead stayed in its RSS:
``BENCH_RSS_ROWS=200000 python -m benchmarks.rss``, a 7.45 MB upload, +35.8 MiB
after against +26.4 MiB with Starlette's spooling).

`UploadRoute` is the route class of ``POST …/etl`` that parses with it (FastAPI's
"custom Request and APIRoute class"), so that no other route changes.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser


class HeldFile(io.FileIO):
    """An uploaded file's bytes in an anonymous memory file (``memfd_create``; a
    temporary file where there is none): written as the body arrives, with no
    thread-pool hop; its pages are the kernel's, not the server's heap, so that
    they go back to the system when it is closed (a heap copy of an upload would
    raise glibc's mmap threshold and stay in the server's RSS). The ETL child reads
    it by its path (`algomancy_api.etlchild.upload_source`), as it read Starlette's
    spooled file. ``_rolled`` True: Starlette treats it as a file on disk."""

    _rolled = True

    def __init__(self) -> None:
        memfd_create = getattr(os, "memfd_create", None)
        if memfd_create is not None:
            fd = memfd_create("algomancy-upload", getattr(os, "MFD_CLOEXEC", 1))
        else:  # pragma: no cover (not Linux)
            with tempfile.TemporaryFile() as spare:
                fd = os.dup(spare.fileno())
        super().__init__(fd, "w+b", closefd=True)


class HeldFileParser(MultiPartParser):
    """Starlette's multipart parser with each file written to a `HeldFile` as its
    data arrives (see the module)."""

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is not None:
            upload.file.close()  # Starlette's empty spooled file, replaced
            held = HeldFile()
            self._files_to_close_on_error.append(held)  # type: ignore[arg-type]
            upload.file = held

    async def parse(self) -> FormData:
        form = await super().parse()
        # A file part the body cut off is not in the form: its memory file is
        # closed here (the form's own are closed with the request).
        kept = {id(v.file) for _, v in form.multi_items() if isinstance(v, UploadFile)}
        for file in self._files_to_close_on_error:
            if id(file) not in kept:
                file.close()
        return form

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload = self._current_part.file
        if upload is None:
            super().on_part_data(data, start, end)  # a field: its size limit applies
            return
        view = memoryview(data)[start:end]
        while view:  # a write may take part of it (interrupted by a signal)
            view = view[upload.file.write(view) :]
        if upload.size is not None:
            upload.size += end - start


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
