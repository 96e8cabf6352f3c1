"""Rows of the SQL store decoded into records: per record type ONE column list
(`Shape`), the SELECT list and the ONE decoder both generated from it.

A shape's columns are the record's dataclass fields, in their order: a field added
to the record is read and decoded without a line changed here, and a row can never
be decoded out of step with the SELECT that produced it. How a column is decoded
follows from the field's annotation (`datetime` through the dialect, `dict[...]`
from JSON, `int`, `float`, `bool`, `ScenarioStatus`; `str` as it comes); a field of
another type fails at import, naming the field.

A decoder converts only the columns that need it, in place, then calls the record
type once: it is on the path of every scenario list and transition (kept for "11
create+run+complete, HTTP: SQLite / in memory" ≤ 1.3x in `python -m benchmarks`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import orjson

from algomancy_core.audit import AuditRecord
from algomancy_core.changes import Change
from algomancy_core.deliveries import Delivery, DeliveryStatus
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.stores.base import DatasetVersion, ScenarioProgress, SessionRecord

R = TypeVar("R")
Decode = Callable[[Any], Any]
#: Stands for the dialect's `decode_time` until a decoder is made for a dialect.
_TIME: Decode = lambda value: value  # noqa: E731

_PLAIN: dict[str, Decode | None] = {
    "str": None,
    "int": int,
    "float": float,
    "bool": bool,
    "datetime": _TIME,
    "ScenarioStatus": ScenarioStatus,
}


#: Digits to "0", so that a run of 19 digits (maybe an integer past 64 bits, which
#: orjson reads as a float) is a run of 19 zeros: found by a plain substring search,
#: ~9x quicker than a regular expression (which cost a first listing of 1,000
#: scenarios more than the decoding itself, `benchmarks.profile_lists`).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def json_loads(text: str) -> Any:
    """`json.loads`, by orjson (several times quicker: a list of 1,000 scenarios
    spent half its time decoding JSON columns, `benchmarks.lists`); what orjson
    refuses or reads otherwise (NaN and integers past 64 bits, which `json.dumps`
    writes) by json."""
    raw = text.encode()
    if _LONG_RUN not in raw.translate(_DIGITS_TO_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _optional(decode: Decode) -> Decode:
    return lambda value: None if value is None else decode(value)


def _decode_for(field: str, annotation: str) -> Decode | None:
    """How a column of a field annotated `annotation` is decoded (None: as it is)."""
    base = annotation.removesuffix(" | None")
    if base.startswith(("dict[", "list[")):
        decode: Decode | None = json_loads
    elif base in _PLAIN:
        decode = _PLAIN[base]
    else:
        raise TypeError(f"{field}: no column decoding for a field of type {annotation!r}")
    if decode is None or decode is _TIME or base == annotation:
        return decode
    return _optional(decode)


class Shape(Generic[R]):
    """A record type read from SQL: its columns (the dataclass's fields, in order,
    less `skip`), the SELECT list for them (`sql` names a column's expression when it
    is not the field's name), and `decoder`, a row of that SELECT to a record."""

    def __init__(
        self,
        record: type[R],
        *,
        sql: Mapping[str, str] | None = None,
        decode: Mapping[str, Decode] | None = None,
        skip: tuple[str, ...] = (),
    ) -> None:
        self.record = record
        fields = [f for f in dataclasses.fields(record) if f.name not in skip]  # type: ignore[arg-type]
        self.names = tuple(f.name for f in fields)
        sql = sql or {}
        self.expressions = tuple(sql.get(name, name) for name in self.names)
        #: The SELECT list, in field order.
        self.columns = ", ".join(self.expressions)
        decode = decode or {}
        self._decodes = tuple(
            decode[f.name] if f.name in decode else _decode_for(f.name, str(f.type)) for f in fields
        )
        self._decoders: dict[Decode, Callable[[tuple[Any, ...]], R]] = {}

    def columns_without(self, *names: str) -> str:
        """The SELECT list with NULL read in place of `names` (columns not wanted)."""
        return ", ".join(
            "NULL" if name in names else expr
            for name, expr in zip(self.names, self.expressions, strict=True)
        )

    def decoder(self, decode_time: Decode) -> Callable[[tuple[Any, ...]], R]:
        """A row of `columns` to a record; times decoded by `decode_time`."""
        found = self._decoders.get(decode_time)
        if found is not None:
            return found
        converted = tuple(
            (i, decode_time if d is _TIME else d)
            for i, d in enumerate(self._decodes)
            if d is not None
        )
        make = self.record

        def decode(row: tuple[Any, ...]) -> R:
            values = list(row)
            for i, convert in converted:
                values[i] = convert(values[i])
            return make(*values)

        self._decoders[decode_time] = decode
        return decode


#: A scenario: every field of `ScenarioRecord`.
SCENARIO = Shape(ScenarioRecord)
#: A session; '' stands for "no owner" in the table (see `schema.sessions`).
SESSION = Shape(SessionRecord, sql={"owner": "NULLIF(owner, '')"})
#: A status poll's view: a scenario (`s`) joined with its session (`x`).
PROGRESS = Shape(
    ScenarioProgress,
    sql={
        "id": "s.id",
        "tag": "s.tag",
        "status": "s.status",
        "progress": "s.progress",
        "session_id": "x.id",
        "session_name": "x.display_name",
        "owner": "NULLIF(x.owner, '')",
    },
)
#: A dataset version as `dataset_versions` holds it (its users are read apart).
DATASET_VERSION = Shape(DatasetVersion, sql={"name": "coalesce(name, '')"}, skip=("scenario_ids",))
#: An entry of the change feed (written by orjson: read back by it, faster).
CHANGE = Shape(Change, decode={"payload": orjson.loads})
#: An audit record (`user` is the `user_name` column).
AUDIT_RECORD = Shape(AuditRecord, sql={"user": "user_name"}, decode={"subject": orjson.loads})
#: A webhook delivery.
DELIVERY = Shape(Delivery, decode={"status": DeliveryStatus})
