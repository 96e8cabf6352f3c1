"""Executors: where algorithms run. Chosen by name in `build_executor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from algomancy_core.executors.base import Executor, RunOutcome, RunRequest, execute
from algomancy_core.executors.thread import ThreadExecutor

if TYPE_CHECKING:
    from algomancy_core.config import CoreConfig


def _thread(config: CoreConfig) -> Executor:
    return ThreadExecutor(max_workers=config.max_workers)


def _process(config: CoreConfig) -> Executor:
    from algomancy_core.executors.process import ProcessExecutor

    return ProcessExecutor(max_workers=config.max_workers)


def _dask(config: CoreConfig) -> Executor:
    from algomancy_core.executors.dask import DaskExecutor

    assert config.dask_address is not None
    return DaskExecutor(address=config.dask_address, max_workers=config.max_workers)


EXECUTOR_FACTORIES: dict[str, Callable[[CoreConfig], Executor]] = {
    "thread": _thread,
    "process": _process,
    "dask": _dask,
}


def build_executor(config: CoreConfig) -> Executor:
    return EXECUTOR_FACTORIES[config.executor](config)


__all__ = [
    "EXECUTOR_FACTORIES",
    "Executor",
    "RunOutcome",
    "RunRequest",
    "ThreadExecutor",
    "build_executor",
    "execute",
]
