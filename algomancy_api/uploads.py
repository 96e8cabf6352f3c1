"""Upload file names: what a dataset upload may be called (the request size limit is
`algomancy_api.middleware.bodysize`)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from fastapi import UploadFile

from algomancy_data.extractors import extensions
from algomancy_data.limits import quote

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
