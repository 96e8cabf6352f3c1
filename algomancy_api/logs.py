"""Log output of `algomancy-api serve`: our own lines and uvicorn's, as text or JSON lines.

Every logger of ours is under `algomancy` (`algomancy.api`, `algomancy.dispatcher`,
`algomancy.scenarios`, ...); uvicorn's are `uvicorn.error` and `uvicorn.access`.

No credential reaches a log: the server reads keys from headers only, uvicorn's
access log writes no headers, and `RedactQuery` replaces the values of query
parameters that look like credentials (`?api_key=...`, `?token=...`) in its lines.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import orjson

LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("text", "json")

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s%(request)s: %(message)s"

#: The id of the HTTP request being handled (`algomancy_api.middleware.requestids`), None
#: outside one.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "algomancy_request_id", default=None
)

#: Attributes every `LogRecord` has; anything else came in through `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
    "request",
}


_records_carry_ids = False


def install_request_id_records() -> None:
    """Give every log record made from now on a `request_id` attribute: the id of
    the request being handled, or None. Through the record factory, so that it
    holds for every logger and handler (ours, uvicorn's, gunicorn's); once."""
    global _records_carry_ids
    if _records_carry_ids:
        return
    _records_carry_ids = True
    make_record: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def record_with_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    logging.setLogRecordFactory(record_with_id)


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`: the line names its request (` [id]` after the logger) when
    it was written while one was handled."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request = f" [{request_id}]" if request_id else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (UTC, ISO 8601), `level`, `logger`,
    `message`, `request_id` while a request is handled, the record's `extra=`
    fields, and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key == "request_id" and value is None:
                continue
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
#: Query parameter names whose values are credentials (compared lower-case,
#: after percent-decoding): `api_key`, `apikey`, `X-API-Key`, `access_token`,
#: `password`, `client_secret`, `auth`, `sig`, OAuth's `code`...
SENSITIVE_NAME = re.compile(
    r"key|token|secret|pass|pwd|auth|sig|credential|cookie|^code$", re.IGNORECASE
)


def redact_query(target: str) -> str:
    """`target` (a path, maybe with `?query`) with the values of sensitive query
    parameters replaced by `[redacted]`; the other parameters are kept."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    kept = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        if equals and SENSITIVE_NAME.search(unquote_plus(name)):
            pair = f"{name}={REDACTED}"
        kept.append(pair)
    return f"{path}?{'&'.join(kept)}"


class RedactQuery(logging.Filter):
    """Redacts credentials in the query of uvicorn's access log lines (its
    arguments are client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) >= 3
            and isinstance(args[2], str)
            and "?" in args[2]
        ):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Put `RedactQuery` on uvicorn's access logger (once), however the server was
    started: `serve`, `ApiLauncher.run`, or uvicorn or gunicorn directly."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())


def logging_config(level: str = "info", log_format: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (uvicorn's `log_config`): our
    loggers and uvicorn's at `level`, written to stderr as text or JSON lines."""
    if level not in LEVELS:
        raise ValueError(f"log level: expected one of {', '.join(LEVELS)}, got {level!r}")
    if log_format not in FORMATS:
        raise ValueError(f"log format: expected one of {', '.join(FORMATS)}, got {log_format!r}")
    install_request_id_records()
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"()": TextFormatter, "fmt": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    loud = level.upper()
    logger = {"handlers": ["stderr"], "level": loud, "propagate": False}
    access = {**logger, "filters": ["redact_query"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_query": {"()": RedactQuery}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "algomancy": logger,
            "uvicorn": logger,
            "uvicorn.error": {"level": loud, "handlers": [], "propagate": True},
            ACCESS_LOGGER: access,
        },
    }
