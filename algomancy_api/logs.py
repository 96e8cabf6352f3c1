"""Log output of `algomancy-api serve`: our own lines and uvicorn's, as text or JSON lines.

Every logger of ours is under `algomancy` (`algomancy.api`, `algomancy.dispatcher`,
`algomancy.scenarios`, ...); uvicorn's are `uvicorn.error` and `uvicorn.access`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("text", "json")

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

#: Attributes every `LogRecord` has; anything else came in through `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (UTC, ISO 8601), `level`, `logger`,
    `message`, the record's `extra=` fields, and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str = "info", log_format: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (uvicorn's `log_config`): our
    loggers and uvicorn's at `level`, written to stderr as text or JSON lines."""
    if level not in LEVELS:
        raise ValueError(f"log level: expected one of {', '.join(LEVELS)}, got {level!r}")
    if log_format not in FORMATS:
        raise ValueError(f"log format: expected one of {', '.join(FORMATS)}, got {log_format!r}")
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    loud = level.upper()
    logger = {"handlers": ["stderr"], "level": loud, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
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
            "uvicorn.access": logger,
        },
    }
