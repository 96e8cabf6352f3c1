"""Helpers both stores use to describe dataset versions."""

from __future__ import annotations

import copy

from algomancy_core.stores.base import DatasetVersion
from algomancy_data import DataSource


def as_version(key: str, number: int, digest: str, data: DataSource) -> DatasetVersion:
    """The description of `data` stored as version `number` of `key` (with the
    dataset's own creation time)."""
    return DatasetVersion(
        key=key,
        version=number,
        digest=digest,
        created_at=data.created_at,
        creator=None,
        classification=str(data.classification),
        tables=data.table_rows(),
        name=data.name,
    )


def as_stored(data: DataSource, key: str, version: DatasetVersion) -> DataSource:
    """Content shared by digest, under the name, classification and time of `version`."""
    name = version.name or key
    if (data.name, str(data.classification), data.created_at) == (
        name,
        version.classification,
        version.created_at,
    ):
        return data
    named = copy.copy(data)
    named.name = name
    named.classification = type(data.classification)(version.classification)
    named.created_at = version.created_at
    return named
