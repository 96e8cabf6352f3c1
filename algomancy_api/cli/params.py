"""`--param NAME=VALUE` (and `--data-param`) read as the JSON values of the types an
algorithm's parameter descriptors give."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from algomancy_api.client.models import ParameterDescriptor


class ParamValueError(click.UsageError):
    """A `--param` that does not fit the algorithm's descriptors (exit 2)."""


def parse_params(
    pairs: Sequence[str], descriptors: Sequence[ParameterDescriptor], option: str = "--param"
) -> dict[str, Any]:
    """`name=value` pairs as JSON values of the types the descriptors give.

    integer and float parse as numbers, boolean as true/false, multi_enum as a
    comma-separated list, interval as `start/end`; a value starting with `[` or `{`
    is read as JSON. An unknown name or an unparsable value names the parameter (and
    `option`, the flag it came from: `--param` or `--data-param`)."""
    by_name = {d.name: d for d in descriptors}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ParamValueError(f"{option} {pair[:200]!r}: expected NAME=VALUE")
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            raise ParamValueError(f"{option} {name[:200]}: no such parameter (parameters: {known})")
        values[name] = parse_value(by_name[name], text, option)
    return values


def parse_value(descriptor: ParameterDescriptor, text: str, option: str = "--param") -> Any:
    kind = descriptor.type
    try:
        if kind == "integer":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError("expected true or false")
            return lowered == "true"
        if text.startswith(("[", "{")):
            return json.loads(text)
        if kind == "multi_enum":
            return [item.strip() for item in text.split(",") if item.strip()]
        if kind == "interval":
            start, sep, end = text.partition("/")
            if not sep:
                raise ValueError("expected START/END")
            return [start, end]
        return text
    except ValueError as exc:
        raise ParamValueError(
            f"{option} {descriptor.name}: {text[:200]!r} is not a valid {kind} ({exc})"
        ) from exc
