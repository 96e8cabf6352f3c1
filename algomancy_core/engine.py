"""`Engine`: the runtime pieces one process shares between its sessions."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from algomancy_core.config import CoreConfig
from algomancy_core.dispatcher import Dispatcher
from algomancy_core.events import Notifier
from algomancy_core.executors import Executor, build_executor
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.stores import Store, build_store
from algomancy_core.workers import claim_single_worker
from algomancy_data import DataSource, DefaultETLFactory, ETLFactory


class Engine:
    """Store, executor, dispatcher and notifier for one process, built from a config."""

    def __init__(
        self,
        config: CoreConfig,
        *,
        store: Store | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.algorithms = config.algorithms
        self.kpis = config.kpis
        self.store = store if store is not None else build_store(config)
        self.executor = executor if executor is not None else build_executor(config)
        self.notifier = Notifier()
        self.lifecycle = Lifecycle(self.store, self.notifier)
        self.dispatcher = Dispatcher(
            self.lifecycle,
            self.executor,
            self.algorithms,
            self.kpis,
            lease_seconds=config.lease_seconds,
            run_timeout=config.run_timeout,
            requeue_interrupted=config.requeue_interrupted,
        )
        self.lifecycle.on_queued = self.dispatcher.wake
        self._initial: Mapping[str, DataSource] | None = None
        self._initial_lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        if not self._started:
            if not self.store.shared:
                # A second worker would see a state of its own: refuse it at start.
                claim_single_worker("algomancy")
            self._started = True
            self.dispatcher.start()

    def close(self) -> None:
        self.dispatcher.stop()
        self.executor.shutdown()
        self.store.close()

    def etl_factory(self) -> ETLFactory:
        """A fresh ETL factory as the configuration describes it."""
        factory: Any = self.config.etl_factory
        built: ETLFactory
        if factory is None:
            built = DefaultETLFactory(self.config.schemas)
        elif isinstance(factory, ETLFactory):
            built = factory
        else:
            built = factory(self.config.schemas or None)
        if built.data_source_class is DataSource:
            built.data_source_class = self.config.data_object_type
        return built

    def initial_datasets(self) -> Mapping[str, DataSource]:
        """The datasets every new session starts with (loaded once)."""
        with self._initial_lock:
            if self._initial is None:
                loader = self.config.initial_datasets
                self._initial = dict(loader()) if loader is not None else {}
            return self._initial
