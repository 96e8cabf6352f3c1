"""A create without a dataset version pins the latest, though the store pins the
latest as it last saw it without a read (`Store.latest_version_seen`): another
process may have added or deleted versions since, which the create's write finds
(`add_scenario(latest=True)`), and the create then reads the latest again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from algomancy_core import SessionManager
from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.stores.base import LatestMoved
from algomancy_data import DataSource

from .conftest import make_config


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[SessionManager, SessionManager]]:
    """Two managers over one SQLite file, each with its own store (as two processes)."""
    config = make_config(has_persistent_state=True, data_path=tmp_path / "state")
    with SessionManager(config) as one, SessionManager(config) as other:
        yield one, other


def _items(qty: int) -> DataSource:
    return DataSource("Master data", tables={"items": pd.DataFrame({"qty": [qty, 2, 3]})})


def test_a_create_pins_a_version_another_process_added_since(
    two_processes: tuple[SessionManager, SessionManager],
) -> None:
    one, other = (sessions.get_session("main") for sessions in two_processes)
    first = one.create_scenario("first", "Master data", "Instant", {"count": 1})
    added = other.add_dataset("Master data", _items(7), replace=True)
    assert added.version == first.dataset_version + 1

    second = one.create_scenario("second", "Master data", "Instant", {"count": 1})
    assert (second.dataset_version, second.dataset_digest) == (added.version, added.digest)
    # Seen now: the next create pins it without a read, and it is still right.
    third = one.create_scenario("third", "Master data", "Instant", {"count": 1})
    assert (third.dataset_version, third.dataset_digest) == (added.version, added.digest)


def test_a_create_after_another_process_made_the_dataset_again(
    two_processes: tuple[SessionManager, SessionManager],
) -> None:
    one, other = (sessions.get_session("main") for sessions in two_processes)
    first = one.create_scenario("first", "Master data", "Instant", {"count": 1})
    one.delete_scenario(first.id)
    other.delete_dataset("Master data")
    with pytest.raises(NotFoundError, match="Master data"):
        one.create_scenario("nothing to pin", "Master data", "Instant", {"count": 1})
    made = other.add_dataset("Master data", _items(9))
    again = one.create_scenario("again", "Master data", "Instant", {"count": 1})
    assert (again.dataset_version, again.dataset_digest) == (made.version, made.digest)
    assert [s.tag for s in one.list_scenarios()] == ["again"]


def test_a_create_gives_up_with_409_while_versions_keep_coming(
    two_processes: tuple[SessionManager, SessionManager], monkeypatch: pytest.MonkeyPatch
) -> None:
    one = two_processes[0].get_session("main")
    store = one._store

    def always_moved(*args: object, **kwargs: object) -> None:
        raise LatestMoved

    monkeypatch.setattr(store, "add_scenario", always_moved)
    with pytest.raises(ConflictError, match="got new versions while the scenario was created"):
        one.create_scenario("never", "Master data", "Instant", {"count": 1})
