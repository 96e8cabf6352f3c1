"""`MemoryStore`: the whole state in this process's memory, behind one lock.

Split by concept: `state` (the dictionaries and their indexes), `sessions`,
`datasets`, `scenarios` (records, results, baseline), `queue` (transitions, claims,
leases), `changes` (the feed).
"""

from __future__ import annotations

from algomancy_core.stores.memory.changes import MemoryChanges
from algomancy_core.stores.memory.datasets import MemoryDatasets
from algomancy_core.stores.memory.queue import MemoryQueue
from algomancy_core.stores.memory.scenarios import MemoryScenarios
from algomancy_core.stores.memory.sessions import MemorySessions


class MemoryStore(MemorySessions, MemoryDatasets, MemoryScenarios, MemoryQueue, MemoryChanges):
    """A store for one process. Nothing survives a restart.

    Records are immutable snapshots: readers get the current object and writers
    replace it, so a status poll is a dictionary lookup under a short lock.
    """

    shared = False
    inline_reads = True
    records_scenario_changes = False

    def close(self) -> None:
        """Nothing to release."""
