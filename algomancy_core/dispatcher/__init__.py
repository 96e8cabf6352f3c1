"""The dispatcher: claims queued scenarios, hands them to the executor, records outcomes.

One dispatcher runs per process. It claims work from the store (so several
processes sharing one SQL store never run a scenario twice), holds a lease on each
run it owns and renews it, stops runs whose cancellation was requested (by any
process) or whose time ran out, and fails runs whose owner died.

Split by concept: `loop` (the claim loop and `Dispatcher`), `progress` (the
progress buffer), `outcomes` (recording how a run ended), `leases` (owners, leases,
cancellation, reaping), `runs` (the runs held and the state the parts share).
"""

from __future__ import annotations

from algomancy_core.dispatcher.leases import AUDIT_PRUNE_SECONDS, new_owner_id, owner_is_dead
from algomancy_core.dispatcher.loop import Dispatcher

__all__ = ["AUDIT_PRUNE_SECONDS", "Dispatcher", "new_owner_id", "owner_is_dead"]
