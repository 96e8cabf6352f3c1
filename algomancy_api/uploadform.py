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
"custom Request and APIRoute class"), so that no other route changes. Its
`part_readers` (None here) may start a `PartReader` on each file part as its headers
arrive (`algomancy_api.routers.etl`: the CSV read while the body arrives,
`algomancy_data.csvstream`); the parser tells it how much of the file is written,
when it is complete, and closes it with the part's file.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser


class PartReader(Protocol):
    """Something reading a file part while it is written (see the module)."""

    def grew(self, written: int) -> None:
        """`written` bytes of the part are in its file."""

    def finish(self) -> None:
        """The part is complete."""

    def close(self) -> None:
        """The part's file is closed (the request is over, or its body was cut off
        or refused): stop reading it, and let go of it before returning."""


#: Given a file part's sent filename and its file's descriptor, the `PartReader`
#: to start on it, or None.
PartReaders = Callable[[str, int], PartReader | None]


class HeldFile(io.FileIO):
    """An uploaded file's bytes in an anonymous memory file (``memfd_create``; a
    temporary file where there is none): written as the body arrives, with no
    thread-pool hop; its pages are the kernel's, not the server's heap, so that
    they go back to the system when it is closed (a heap copy of an upload would
    raise glibc's mmap threshold and stay in the server's RSS). The ETL child reads
    it by its path (`algomancy_api.etlchild.upload_source`), as it read Starlette's
    spooled file. ``_rolled`` True: Starlette treats it as a file on disk.
    `reader`: the `PartReader` reading it as it is written, if any."""

    _rolled = True
    reader: PartReader | None = None

    def __init__(self) -> None:
        memfd_create = getattr(os, "memfd_create", None)
        if memfd_create is not None:
            fd = memfd_create("algomancy-upload", getattr(os, "MFD_CLOEXEC", 1))
        else:  # pragma: no cover (not Linux)
            with tempfile.TemporaryFile() as spare:
                fd = os.dup(spare.fileno())
        super().__init__(fd, "w+b", closefd=True)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        super().close()


class HeldFileParser(MultiPartParser):
    """Starlette's multipart parser with each file written to a `HeldFile` as its
    data arrives, and read as it arrives by the `PartReader` that `part_readers`
    gives (see the module)."""

    def __init__(self, *args: Any, part_readers: PartReaders | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._part_readers = part_readers

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is not None:
            upload.file.close()  # Starlette's empty spooled file, replaced
            held = HeldFile()
            self._files_to_close_on_error.append(held)  # type: ignore[arg-type]
            upload.file = held
            if self._part_readers is not None and upload.filename:
                held.reader = self._part_readers(upload.filename, held.fileno())

    async def parse(self) -> FormData:
        form = await super().parse()  # on error Starlette closes every file (and reader)
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
        reader = getattr(upload.file, "reader", None)
        if reader is not None:
            reader.grew(upload.file.tell())

    def on_part_end(self) -> None:
        super().on_part_end()
        upload = self._current_part.file
        reader = getattr(upload.file, "reader", None) if upload is not None else None
        if reader is not None:
            reader.finish()


class HeldFileRequest(Request):
    """A request whose multipart form is parsed by `HeldFileParser`."""

    part_readers: PartReaders | None = None

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
                        part_readers=self.part_readers,
                    )
                    self._form = await parser.parse()
            except MultiPartException as exc:
                raise HTTPException(status_code=400, detail=exc.message) from None
        # Starlette's: the parsed form, or another content type parsed as before.
        return await super()._get_form(
            max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
        )


class UploadRoute(APIRoute):
    """A route whose multipart body is parsed in memory (`HeldFileRequest`); a
    subclass may give `part_readers` for a request (see the module)."""

    def part_readers(self, request: Request) -> PartReaders | None:
        """What starts a reader on each file part of `request`'s body: none here."""
        return None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def held(request: Request) -> Response:
            held_request = HeldFileRequest(request.scope, request.receive)
            held_request.part_readers = self.part_readers(held_request)
            return await handler(held_request)

        return held
