"""The claim query: which queued scenario runs next, in one statement.

- A session's own scenarios (`batch` NULL) come first: the oldest queued of each
  session with none of its own processing (the seed's one-at-a-time rule, which
  the unique index `uq_scenarios_one_processing` also enforces).
- Then batch scenarios (an experiment's): each batch's oldest queued, the batch
  with the fewest processing first, then the one served least recently (its
  latest `started_at`; never served first), then the oldest. Batches take turns
  (round robin) whatever their size, so experiments of several sessions share the
  workers, and a run a user starts meanwhile waits for a free worker only.

Both lists are read group by group (`WITH RECURSIVE` steps from one session, or
batch, with queued work to the next, one index probe each), so a claim costs a
few probes per session and batch with queued work, not one per queued row. The
same statement serves SQLite (inside the write lock, as the `WHERE id = (...)`
of the claiming update) and PostgreSQL (read `FOR UPDATE SKIP LOCKED`, then
updated); `stores/memory/runqueue.py` keeps the same rule in memory.
"""

from __future__ import annotations

from algomancy_core.scenario import ScenarioStatus

_QUEUED = ScenarioStatus.QUEUED.value
_PROCESSING = ScenarioStatus.PROCESSING.value

#: Sessions with queued scenarios (of their own or not), in id order.
_SESSIONS = (
    "waiting(session_id) AS ("
    f"SELECT min(session_id) FROM scenarios WHERE status = '{_QUEUED}' "
    "UNION ALL SELECT (SELECT min(q.session_id) FROM scenarios AS q "
    f"WHERE q.status = '{_QUEUED}' AND q.session_id > waiting.session_id) "
    "FROM waiting WHERE waiting.session_id IS NOT NULL)"
)
#: Batches with queued scenarios, in order.
_BATCHES = (
    "batches(batch) AS ("
    f"SELECT min(batch) FROM scenarios WHERE status = '{_QUEUED}' AND batch IS NOT NULL "
    "UNION ALL SELECT (SELECT min(q.batch) FROM scenarios AS q "
    f"WHERE q.status = '{_QUEUED}' AND q.batch > batches.batch) "
    "FROM batches WHERE batches.batch IS NOT NULL)"
)
#: The oldest queued own scenario of each session with none of its own processing.
_OWN_HEADS = (
    "SELECT (SELECT head.id FROM scenarios AS head "
    f"WHERE head.status = '{_QUEUED}' AND head.session_id = waiting.session_id "
    "AND head.batch IS NULL ORDER BY head.queue_seq LIMIT 1) "
    "FROM waiting WHERE waiting.session_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM scenarios AS busy WHERE busy.session_id = waiting.session_id "
    f"AND busy.status = '{_PROCESSING}' AND busy.batch IS NULL)"
)
#: The oldest queued scenario of each batch.
_BATCH_HEADS = (
    "SELECT (SELECT head.id FROM scenarios AS head "
    f"WHERE head.status = '{_QUEUED}' AND head.batch = batches.batch "
    "ORDER BY head.queue_seq LIMIT 1) FROM batches WHERE batches.batch IS NOT NULL"
)
_SERVED = (
    "(SELECT max(served.started_at) FROM scenarios AS served WHERE served.batch = candidate.batch)"
)
#: Own scenarios first; then the batch with the fewest processing, the least
#: recently served (never served first), the oldest.
_ORDER = (
    "ORDER BY candidate.batch IS NOT NULL, "
    "(SELECT count(*) FROM scenarios AS running "
    f"WHERE running.status = '{_PROCESSING}' AND running.batch = candidate.batch), "
    f"{_SERVED} IS NOT NULL, {_SERVED}, candidate.queue_seq"
)
#: The id of the scenario a claim takes now (no row: nothing to claim). The top
#: level reads `scenarios AS candidate` alone, so PostgreSQL can lock the row it
#: picks (`FOR UPDATE OF candidate SKIP LOCKED`).
CANDIDATE = (
    f"WITH RECURSIVE {_SESSIONS}, {_BATCHES} "
    "SELECT candidate.id FROM scenarios AS candidate WHERE candidate.id IN ("
    f"{_OWN_HEADS} UNION ALL {_BATCH_HEADS}) {_ORDER} LIMIT 1"
)
