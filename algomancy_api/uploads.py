"""Upload checks: file names and the request size limit."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from fastapi import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.jsonbody import is_dataset_upload
from algomancy_data.extractors import extensions
from algomancy_data.limits import quote

#: The built-in extensions; `algomancy_data.extractors.register_extractor` adds others.
ALLOWED_EXTENSIONS = ("csv", "json", "xlsx")
#: Longest upload filename (most file systems stop at 255).
MAX_FILENAME_CHARS = 255


class UploadNameError(ValueError):
    """An uploaded file's name is unusable."""


def clean_filename(raw: str | None) -> str:
    """The last path component of an upload's name, after checks.

    Absolute paths, `..` components, empty stems and extensions other than
    csv/json/xlsx raise `UploadNameError`.
    """
    if raw is None or not raw.strip():
        raise UploadNameError("an uploaded file has no filename")
    if len(raw) > MAX_FILENAME_CHARS:
        raise UploadNameError(
            f"upload filename {quote(raw, 60)} is over {MAX_FILENAME_CHARS} characters"
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise UploadNameError(
            f"upload filename {quote(raw, 80)} contains control characters (such as NUL)"
        )
    unified = raw.replace("\\", "/")
    if unified.startswith("/") or PureWindowsPath(raw).is_absolute() or PureWindowsPath(raw).drive:
        raise UploadNameError(
            f"upload filename {quote(raw, 80)} is an absolute path; send a bare name"
        )
    parts = PurePosixPath(unified).parts
    if ".." in parts:
        raise UploadNameError(f"upload filename {quote(raw, 80)} points outside its folder")
    name = parts[-1] if parts else ""
    path = PurePosixPath(name)
    stem, extension = path.stem, path.suffix.lower().lstrip(".")
    if not stem.strip() or stem.startswith("."):
        raise UploadNameError(
            f"upload filename {quote(raw, 80)} has an empty name before the extension"
        )
    allowed = extensions()  # the built-in ones and those registered
    if extension not in allowed:
        raise UploadNameError(
            f"upload {quote(name, 80)}: extension {extension or '(none)'!r} is not one of "
            f"{', '.join(allowed)}"
        )
    return name


_FILENAME = re.compile(r'filename="((?:[^"\\]|\\.)*)"', re.IGNORECASE)


def sent_filename(upload: UploadFile) -> str | None:
    """The filename as the client sent it.

    The multipart parser keeps only the last component of a Windows path
    (``C:\\Windows\\sku_data.csv`` becomes ``sku_data.csv``), which would hide
    the path from `clean_filename`; the raw `Content-Disposition` still has it.
    """
    disposition = upload.headers.get("content-disposition", "")
    found = _FILENAME.search(disposition)
    if found is None:
        return upload.filename
    return found.group(1)


class BodySizeLimit:
    """Answer 413 for request bodies over `max_bytes`.

    A declared `Content-Length` over the limit is refused before any of the body is
    read; a chunked body is counted as it streams and cut off once over. Either way
    the answer says `Connection: close` and the rest of the body is not read.

    Request bodies being received or handled at once share `in_flight_bytes`: each
    request reserves its declared length (a chunked one, `max_bytes`) until its
    answer is sent, and one that does not fit is answered 503 with `Retry-After`.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        in_flight_bytes: int | None = None,
        max_json_bytes: int | None = None,
        prefix: str = "",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.in_flight_budget = in_flight_bytes if in_flight_bytes is not None else 4 * max_bytes
        self.in_flight = 0
        # Bodies other than datasets (the upload routes) get the small JSON limit.
        self.max_json_bytes = max_json_bytes
        self.prefix = prefix

    def limit_for(self, path: str) -> tuple[int, str]:
        """The body limit of a path, and the configuration field that sets it."""
        if self.max_json_bytes is None or is_dataset_upload(path, self.prefix):
            return self.max_bytes, "max_upload_bytes"
        return min(self.max_json_bytes, self.max_bytes), "max_json_bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, field = self.limit_for(scope["path"])
        may_have_body = False
        declared = -1
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await detail_response(400, "invalid Content-Length header")(
                        scope, receive, send
                    )
                    return
                if declared > max_bytes:
                    await self._refuse(scope, receive, send, max_bytes, field)
                    return
                may_have_body = declared > 0
            elif key == b"transfer-encoding":
                may_have_body = True
        if not may_have_body:
            # Without Content-Length or Transfer-Encoding there is no body to count
            # (a status poll, say): no wrapping on the hot path.
            await self.app(scope, receive, send)
            return
        reserved = declared if declared >= 0 else max_bytes
        if self.in_flight + reserved > self.in_flight_budget:
            busy = detail_response(
                503,
                "too many uploads in flight: the server holds at most "
                f"{self.in_flight_budget} request bytes at once (max_uploads_in_flight_bytes); "
                "retry shortly",
                {"Retry-After": "2", "Connection": "close"},
            )
            await busy(scope, receive, send)
            return
        self.in_flight += reserved
        try:
            await self._limited(scope, receive, send, max_bytes, field)
        finally:
            self.in_flight -= reserved

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, max_bytes: int, field: str
    ) -> None:
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge(_too_large(max_bytes, field))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._refuse(scope, receive, send, max_bytes, field)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, max_bytes: int, field: str
    ) -> None:
        # The rest of the body is not read: the connection closes after the answer.
        answer = detail_response(413, _too_large(max_bytes, field), {"Connection": "close"})
        await answer(scope, receive, send)


def _too_large(max_bytes: int, field: str) -> str:
    return f"request body too large: the limit is {max_bytes} bytes ({field})"


class _BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so that body parsers pass it on as 413."""

    def __init__(self, detail: str) -> None:
        # Connection: close, so that the server stops reading the body
        super().__init__(status_code=413, detail=detail, headers={"Connection": "close"})
