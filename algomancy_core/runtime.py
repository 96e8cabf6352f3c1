"""`Runtime`: the running pieces one process shares between its sessions.

Called `Engine` before; renamed because the SQL stores hold SQLAlchemy's `Engine`
too, and two `Engine`s in one stack trace read as one. The old name still imports
(`algomancy_core.compat`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from algomancy_core.change_hub import ChangeHub
from algomancy_core.config import CoreConfig
from algomancy_core.dispatcher import Dispatcher
from algomancy_core.events import Notifier
from algomancy_core.executors import Executor, build_executor
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.observe import Observers
from algomancy_core.stores import Store, build_store
from algomancy_core.workers import claim_single_worker
from algomancy_data import DataSource, DefaultETLFactory, ETLFactory


class Service(Protocol):
    """Something that runs alongside the dispatcher while the runtime is started."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Runtime:
    """Store, executor, dispatcher and notifier for one process, built from a config.

    Constructing one is cheap and touches nothing outside the process: the store
    (a database, a data folder) and the executor (worker processes, a cluster) are
    opened on first use, which is `start()` in a server.
    """

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
        self.notifier = Notifier()
        #: The session change feed: recorded here, followed by session streams.
        self.changes = ChangeHub(lambda: self.store)
        #: Told about runs (metrics, traces, webhooks): see `algomancy_core.observe`.
        self.observers = Observers()
        self._store = store
        self._executor = executor
        self._lifecycle: Lifecycle | None = None
        self._dispatcher: Dispatcher | None = None
        # Reentrant: building the dispatcher builds the lifecycle, which opens the store.
        self._build_lock = threading.RLock()
        self._initial: Mapping[str, DataSource] | None = None
        self._initial_lock = threading.Lock()
        self._started = False
        #: Started after the dispatcher, stopped before it (a webhook sender).
        self.services: list[Service] = []

    @property
    def store(self) -> Store:
        """The store, opened on first use."""
        if self._store is None:
            with self._build_lock:
                if self._store is None:
                    self._store = build_store(self.config)
        return self._store

    @property
    def executor(self) -> Executor:
        """The executor, built on first use."""
        if self._executor is None:
            with self._build_lock:
                if self._executor is None:
                    self._executor = build_executor(self.config)
        return self._executor

    @property
    def lifecycle(self) -> Lifecycle:
        if self._lifecycle is None:
            with self._build_lock:
                if self._lifecycle is None:
                    self._lifecycle = Lifecycle(
                        self.store,
                        self.notifier,
                        changes=self.changes,
                        observers=self.observers,
                    )
        return self._lifecycle

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            with self._build_lock:
                if self._dispatcher is None:
                    dispatcher = Dispatcher(
                        self.lifecycle,
                        self.executor,
                        self.algorithms,
                        self.kpis,
                        lease_seconds=self.config.lease_seconds,
                        run_timeout=self.config.run_timeout,
                        requeue_interrupted=self.config.requeue_interrupted,
                        observers=self.observers,
                        audit_retention=timedelta(days=self.config.audit_retention_days),
                    )
                    self.lifecycle.on_queued = dispatcher.queued
                    self._dispatcher = dispatcher
        return self._dispatcher

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        """Open the store and the executor and start claiming work (once)."""
        with self._build_lock:
            if self._started:
                return
            if not self.store.shared:
                # A second worker would see a state of its own: refuse it at start.
                claim_single_worker("algomancy")
            self.dispatcher.start()
            for service in self.services:
                service.start()
            self._started = True

    def close(self) -> None:
        """Stop and release whatever was started or opened."""
        with self._build_lock:
            for service in self.services:
                service.stop()
            self.changes.close()
            if self._dispatcher is not None:
                self._dispatcher.stop()
            if self._executor is not None:
                self._executor.shutdown()
            if self._store is not None:
                self._store.close()

    def etl_factory(self) -> ETLFactory:
        """A fresh ETL factory as the configuration describes it."""
        return build_etl_factory(self.config)

    def initial_datasets(self) -> Mapping[str, DataSource]:
        """The datasets every new session starts with (loaded once)."""
        with self._initial_lock:
            if self._initial is None:
                loader = self.config.initial_datasets
                self._initial = dict(loader()) if loader is not None else {}
            return self._initial


def build_etl_factory(config: CoreConfig) -> ETLFactory:
    """The ETL factory `config` describes: its `etl_factory` (an instance, or a
    class called with the schemas), else a `DefaultETLFactory` of its schemas;
    building its datasets as `config.data_object_type`. Also what an ETL child
    process builds from the configuration it loads again."""
    factory: Any = config.etl_factory
    built: ETLFactory
    if factory is None:
        built = DefaultETLFactory(config.schemas)
    elif isinstance(factory, ETLFactory):
        built = factory
    else:
        built = factory(config.schemas or None)
    if built.data_source_class is DataSource:
        built.data_source_class = config.data_object_type
    return built
