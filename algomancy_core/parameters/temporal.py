"""Dates, datetimes and intervals: `date`, `datetime` and `interval` parameters,
values as ISO strings on the wire."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

from algomancy_core.parameters.base import MISSING, BoundedParameter, ParameterError, shown


class Interval(NamedTuple):
    """A closed range of dates or datetimes; `end` is never before `start`."""

    start: date
    end: date


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(raw: Any) -> date | str:
    """The date, or the rule it broke."""
    if isinstance(raw, datetime):
        return f'must be a date "YYYY-MM-DD", not a datetime, got {shown(raw)}'
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return f"must be a valid calendar date, got {shown(raw)}"
    return f'must be an ISO date "YYYY-MM-DD", got {shown(raw)}'


def _parse_datetime(raw: Any) -> datetime | str:
    """The datetime, or the rule it broke."""
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return f"must be an ISO 8601 date and time, got {shown(raw)}"


def _utc_if_naive(value: Any) -> Any:
    # Naive and aware datetimes do not compare; a naive one is read as UTC for bounds.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _TemporalParameter(BoundedParameter[Any]):
    @abstractmethod
    def _parse_point(self, raw: Any) -> date | str:
        """One date or datetime from `raw`, or a message saying what is wrong."""

    def _checked_bound(self, label: str, bound: Any) -> Any:
        parsed = self._parse_point(bound)
        if isinstance(parsed, str):
            raise ParameterError(None, f"{label} {parsed}")
        return parsed

    def _comparable(self, value: Any) -> Any:
        return _utc_if_naive(value)

    def _bound_json(self, bound: Any) -> Any:
        return bound.isoformat()


class _PointParameter(_TemporalParameter):
    """One date or datetime; `_parse_point` says which."""

    def _parse(self, raw: Any) -> Any:
        value = self._parse_point(raw)
        if isinstance(value, str):
            raise ParameterError(self.name, value)
        self._check_bounds(value, raw)
        return value

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()


class DateParameter(_PointParameter):
    """A calendar date, as an ISO "YYYY-MM-DD" string; datetime strings are rejected."""

    type_name = "date"
    noun = "a date"

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_date(raw)


class DateTimeParameter(_PointParameter):
    """A date and time, as an ISO 8601 string with or without offset ("Z" accepted)."""

    type_name = "datetime"
    noun = "a date and time"

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_datetime(raw)


class IntervalParameter(_TemporalParameter):
    """A `{"start": iso, "end": iso}` range of dates or datetimes (`kind`), end >= start.

    `kind` defaults to the kind of the declared default, else "date". `min` and `max`,
    when given, bound both ends.
    """

    type_name = "interval"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        kind: Literal["date", "datetime"] | None = None,
        min: Any = None,
        max: Any = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        if kind is None:
            kind = "date"
            start = default.start if isinstance(default, Interval) else None
            if isinstance(default, Mapping):
                start = default.get("start")
            if isinstance(start, datetime) or (
                isinstance(start, str) and isinstance(_parse_date(start), str)
            ):
                kind = "datetime"
        self.kind: str = kind
        super().__init__(
            default=default, min=min, max=max, required=required, description=description
        )

    def _check_options(self) -> None:
        if self.kind not in ("date", "datetime"):
            raise ParameterError(None, f'kind must be "date" or "datetime", got {shown(self.kind)}')
        super()._check_options()

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_date(raw) if self.kind == "date" else _parse_datetime(raw)

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, Interval):
            raw = {"start": raw.start, "end": raw.end}
        if not isinstance(raw, Mapping) or set(raw) != {"start", "end"}:
            raise ParameterError(
                self.name, f'must be an object with "start" and "end", got {shown(raw)}'
            )
        ends: dict[str, Any] = {}
        for key in ("start", "end"):
            value = self._parse_point(raw[key])
            if isinstance(value, str):
                raise ParameterError(self.name, f"{key} {value}")
            ends[key] = value
        start, end = ends["start"], ends["end"]
        if isinstance(start, datetime) and (start.tzinfo is None) != (end.tzinfo is None):
            raise ParameterError(
                self.name,
                "start and end must both have a time zone offset or both have none, "
                f"got {shown(raw)}",
            )
        if end < start:
            raise ParameterError(
                self.name,
                f"end must not be before start, got start {start.isoformat()} "
                f"and end {end.isoformat()}",
            )
        for key, point in ends.items():
            low, high = _utc_if_naive(self.min), _utc_if_naive(self.max)
            if low is not None and _utc_if_naive(point) < low:
                raise ParameterError(
                    self.name,
                    f"{key} must be >= {self._bound_json(self.min)}, got {point.isoformat()}",
                )
            if high is not None and _utc_if_naive(point) > high:
                raise ParameterError(
                    self.name,
                    f"{key} must be <= {self._bound_json(self.max)}, got {point.isoformat()}",
                )
        return Interval(start, end)

    def to_json(self, value: Any) -> Any:
        if value is None:
            return None
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}

    def _describe_extras(self) -> dict[str, Any]:
        return {"kind": self.kind}
