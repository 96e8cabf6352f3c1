"""`PackedDataSource`: a dataset already written as Arrow, with its digest and row
counts, that a store can keep without pandas.

An ETL run in a child process (`algomancy_api.etlchild`) sends back this rather than
the frames: the server stores the bytes as they are (`to_arrow_bytes`), takes the
digest computed in the child (`algomancy_data.digest.pack` makes one; `content_digest` returns
its digest) and describes the version
from `table_rows`, so that the server process never imports pandas for an upload.
Reading a table (`get_table`) decodes the payload, as a store's read would.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any, SupportsIndex

from algomancy_data.datasource import DataSource

if TYPE_CHECKING:
    import pandas as pd


class PackedDataSource(DataSource):
    """`data`'s metadata with its Arrow payload, digest and row counts (see the module)."""

    def __init__(self, data: DataSource, payload: bytes, digest: str) -> None:
        super().__init__(
            data.name,
            data.classification,
            id=data.id,
            created_at=data.created_at,
            data_parameters=data.data_parameters,
        )
        self.payload = payload
        self.digest = digest
        self.rows = data.table_rows()
        self.data_class = type(data)
        self._decoded: DataSource | None = None

    def to_arrow_bytes(self) -> bytes:
        return self.payload

    def table_rows(self) -> dict[str, int]:
        return dict(self.rows)

    def list_tables(self) -> list[str]:
        return list(self.rows)

    def get_table(self, name: str) -> pd.DataFrame:
        return self.unpacked().get_table(name)

    def unpacked(self) -> DataSource:
        """The dataset itself, decoded from the payload (once)."""
        if self._decoded is None:
            self._decoded = self.data_class.from_arrow_bytes(self.payload)
        return self._decoded

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_decoded": None}

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """At pickle protocol 5 the payload is a `pickle.PickleBuffer`, which a
        pickler with a ``buffer_callback`` may send out of band (the ETL child's
        answer, `algomancy_data.answers.send_answer`: no copy of the payload into
        the pickle and out of it); it loads as `bytes` either way."""
        reduced = super().__reduce_ex__(protocol)
        assert isinstance(reduced, tuple)  # (copyreg.__newobj__, (cls,), state, ...)
        if int(protocol) < 5:
            return reduced
        state = {**reduced[2], "payload": pickle.PickleBuffer(self.payload)}
        return (*reduced[:2], state, *reduced[3:])

    def __setstate__(self, state: dict[str, Any]) -> None:
        payload = state["payload"]
        if not isinstance(payload, bytes):  # an out-of-band buffer given as another type
            state = {**state, "payload": bytes(payload)}
        self.__dict__.update(state)
