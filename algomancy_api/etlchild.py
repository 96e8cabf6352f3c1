"""The ETL of uploads in one reused child process, so that the server never imports
pandas, pyarrow or the spreadsheet readers for an upload (issue 23, "light at rest").

`EtlChild.run` hands one upload's ETL (reading the files, the checks, the coercion,
the dataset's Arrow payload and content digest) to a child process and gets back the
messages and a `PackedDataSource`, which the store keeps as it is. The child:

- is a fresh interpreter (``python -m algomancy_data.parseworker``, as the workbook
  parsers: never forked from the threaded server), started on the first upload and
  reused; it loads the configuration again from its import path (`config_import_path`) and
  builds the domain's ETL factory from it (`build_etl_factory`), once;
- reads each uploaded file from the server's file of it through
  ``/proc/<server>/fd/<n>`` (the bytes cross no pipe): the anonymous memory file
  the upload was written to (`algomancy_api.uploadform.HeldFile`), or a spooled
  file rolled to disk; it gets the bytes of a file held in a Python buffer;
- runs one upload at a time: others wait for it, until their own deadline;
- is killed when its request's deadline passes or its client leaves (nothing is
  stored; the next upload starts a fresh child), and a child that dies (killed, out
  of memory) is answered 503 naming what happened; the next upload starts a fresh one;
- is stopped with the app (the lifespan's end).

The read limits (`max_table_cells`, `max_cell_chars`, the workbook limits) apply in
the child as in the server. Configurations built as objects (tests, `ApiLauncher.build`
with an `ApiConfiguration`) have no import path: their ETL runs in the server's
thread as before (`use_child`).

What it buys (``python -m benchmarks.rss``, SQLite store, two runs): the server's RSS
after an ETL upload minus at rest went from +97.8 MiB to +5.4 MiB (``serve --example``
and its two sample files) and from +109.2 MiB to +8.0 MiB (a 0.73 MB CSV,
`benchmarks.configs:light_config`): pandas, pyarrow and numpy are no longer imported
into the server and kept. No address-space limit is set on the child: the read
limits bound what one upload may cost, as they did in the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException
from starlette.datastructures import UploadFile

from algomancy_api.deadlines import Stopped
from algomancy_data.answers import recv_answer
from algomancy_data.limits import ReadLimits
from algomancy_data.parsepool import _Worker

if TYPE_CHECKING:
    from algomancy_api.config import ApiConfiguration
    from algomancy_data.packed import PackedDataSource

log = logging.getLogger("algomancy.etl")

#: How often a waiting upload looks at its stop event.
_POLL_SECONDS = 0.05
#: A source of an uploaded file: its bytes, or a path the child opens.
Source = bytes | str


@dataclass
class EtlOutput:
    """What the child sends back: success, the messages (`ValidationMessage.to_dict`)
    and on success the dataset, packed."""

    success: bool
    messages: list[dict[str, Any]]
    data: PackedDataSource | None


def use_child(config: ApiConfiguration) -> bool:
    """Whether uploads of `config` go through the child: `etl_in_child` on, an import
    path to load the configuration from, and a store that keeps bytes (the in-memory
    store keeps the frames in the server anyway: there the ETL runs in-process)."""
    return config.etl_in_child and config.config_import_path is not None and config.is_shared_state


def upload_source(upload: UploadFile) -> Source:
    """Where the child reads `upload`: its spooled file on disk by its descriptor
    (no copy), else (held in memory) its bytes."""
    spooled: Any = upload.file
    if getattr(spooled, "_rolled", False):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            spooled.flush()
            return f"/proc/{os.getpid()}/fd/{spooled.fileno()}"
    upload.file.seek(0)
    return upload.file.read()


class EtlChild:
    """The one child process running uploads' ETL (see the module)."""

    def __init__(self, config: ApiConfiguration) -> None:
        assert config.config_import_path is not None
        self.spec = config.config_import_path
        self.overrides = {
            "etl_in_child": False,  # the child runs it itself
            "xlsx_parse_workers": config.xlsx_parse_workers,
        }
        self.seconds = max(1, int(config.etl_timeout_seconds) + 1)
        self._worker: _Worker | None = None
        self._turn = threading.Lock()  # one upload at a time
        #: Children that died or were killed mid-task (for tests and logs).
        self.replaced = 0

    @property
    def pid(self) -> int | None:
        """The child's process id, while one runs."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.alive() else None

    def run(
        self,
        dataset_name: str,
        files: Sequence[tuple[str, Source]],
        limits: ReadLimits,
        stop: threading.Event,
    ) -> EtlOutput:
        """The ETL of `files` (name, source) as `dataset_name` in the child; `Stopped`
        once `stop` is set (the child is killed), 503 when the child dies, and the
        exceptions the same work raises in-process (a file of an unknown type, ...)."""
        while not self._turn.acquire(timeout=_POLL_SECONDS):
            if stop.is_set():
                raise Stopped()
        try:
            return self._run(dataset_name, files, limits, stop)
        finally:
            self._turn.release()

    def _run(
        self,
        dataset_name: str,
        files: Sequence[tuple[str, Source]],
        limits: ReadLimits,
        stop: threading.Event,
    ) -> EtlOutput:
        if stop.is_set():
            raise Stopped()
        worker = self._worker
        if worker is None or not worker.alive():
            if worker is not None:
                worker.kill()
            worker = self._worker = _Worker()
        task = (self.spec, self.overrides, dataset_name, list(files), limits)
        try:
            worker.connection.send((etl_task, task, resource.RLIM_INFINITY, self.seconds))
            while not worker.connection.poll(_POLL_SECONDS):
                if stop.is_set():
                    self._drop(worker, "its upload's deadline passed or its client left")
                    raise Stopped()
            status, value = recv_answer(worker.connection)
        except (EOFError, OSError):
            raise self._died(worker) from None
        if status == "memory":
            self._drop(worker, "it ran out of memory")
            raise HTTPException(
                503, "the ETL process ran out of memory reading this upload; nothing was stored"
            )
        if status != "ok":  # not raised by the ETL: etl_task returns what it raises
            raise RuntimeError(f"the ETL process failed: {value}")
        kind, answer = value
        if kind == "raised":
            raise answer
        output: EtlOutput = answer
        return output

    def _drop(self, worker: _Worker, why: str) -> None:
        worker.kill()
        if self._worker is worker:
            self._worker = None
        self.replaced += 1  # counted once it is gone
        log.warning(
            "ETL process %d stopped: %s; the next upload starts a new one",
            worker.process.pid,
            why,
            extra={"event": "etl-child-replaced"},
        )

    def _died(self, worker: _Worker) -> HTTPException:
        with contextlib.suppress(Exception):
            worker.process.wait(5)
        code = worker.process.returncode
        how = f"exit code {code}"
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                how = f"ended by {signal.Signals(-code).name}"
        self._drop(worker, f"it died ({how})")
        return HTTPException(
            503,
            f"the ETL process died while reading this upload ({how}); nothing was stored. "
            "A new one is started for the next upload: retry",
        )

    def close(self) -> None:
        """Stop the child (the app's lifespan ends; a running upload is answered 503).
        A later upload would start a new one; a child whose server exits sees its
        connection close and ends."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()


# -- in the child ------------------------------------------------------------------

_configs: dict[tuple[str, str], Any] = {}


def etl_task(
    spec: str,
    overrides: dict[str, Any],
    dataset_name: str,
    files: list[tuple[str, Source]],
    limits: ReadLimits,
) -> tuple[str, Any]:
    """Run in the child: ``("ok", EtlOutput)``, or ``("raised", exception)`` for what
    the same work raises in the server (sent back to be raised there)."""
    try:
        return "ok", _etl(spec, overrides, dataset_name, files, limits)
    except MemoryError:
        raise
    except Exception as exc:  # raised again in the server, as in-process
        import pickle

        try:
            pickle.dumps(exc)
        except (pickle.PicklingError, TypeError, AttributeError):
            # Not picklable (a lock or a local class among its values): its name and text.
            return "raised", RuntimeError(f"{type(exc).__name__}: {exc}")
        return "raised", exc


def _etl(
    spec: str,
    overrides: dict[str, Any],
    dataset_name: str,
    sources: list[tuple[str, Source]],
    limits: ReadLimits,
) -> EtlOutput:
    from algomancy_data.digest import pack
    from algomancy_data.extractors import file_for

    factory = _factory(spec, overrides)
    files = {}
    for name, source in sources:
        if isinstance(source, str):
            with open(source, "rb") as handle:
                data = handle.read()
        else:
            data = source
        file = file_for(name, data, limits)
        files[file.name] = file
    result = factory.run(files, dataset_name)
    messages = [m.to_dict() for m in result.messages]
    if not result.is_success or result.data_source is None:
        return EtlOutput(False, messages, None)
    result.data_source.name = dataset_name
    return EtlOutput(True, messages, pack(result.data_source))


def _factory(spec: str, overrides: dict[str, Any]) -> Any:
    """A fresh ETL factory (as in the server: one per run) of the configuration at
    `spec`, loaded once per child."""
    from algomancy_core.runtime import build_etl_factory

    key = (spec, repr(sorted(overrides.items())))
    if key not in _configs:
        from algomancy_api.loading import load_config
        from algomancy_data.parsepool import configure_shared_pool

        config = load_config(spec).replace(**overrides)
        configure_shared_pool(config.xlsx_parse_workers)
        _configs[key] = config
    return build_etl_factory(_configs[key])
