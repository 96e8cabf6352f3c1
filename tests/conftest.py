"""Rules for every test: what is `slow` (see `tests.marks`), nothing written into the
checkout, an id of its own for each test (see `tests.nodeids`), and FastAPI's route
analysis done once per process (see `tests.route_memo`)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from tests import marks, nodeids
from tests.browser import browser, chromium, playwright  # noqa: F401 - fixtures of every test
from tests.sqltrace import traced  # noqa: F401 - a fixture of every test

#: Compiled modules kept between runs when the environment says not to write them
#: beside the sources (PYTHONDONTWRITEBYTECODE): without them each run, and each xdist
#: worker, compiles and assertion-rewrites every module again (~5 s of CPU per process).
#: The environment says the same to the processes the tests start (xdist's workers,
#: servers, CLI commands, spawned executor workers): each would compile the project's
#: modules from source again (~0.3 s of CPU per server), and each xdist worker would
#: rewrite the pytest plugins' packages (hypothesis, schemathesis, anyio) again.
PYCACHE = Path(tempfile.gettempdir()) / "algomancy-tests-pycache"
if sys.dont_write_bytecode and sys.pycache_prefix is None:
    sys.pycache_prefix = str(PYCACHE)
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)

# FastAPI's route analysis once per test process rather than once per app (tests.route_memo),
# where FastAPI still has the internals it memoises (else the tests are slower, not wrong).
try:
    from tests import route_memo
except (ImportError, AttributeError):
    pass
else:
    route_memo.install()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis (under schemathesis) keeps its caches in the temporary folder, not in
    `.hypothesis/` of the current folder (the checkout)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "algomancy-tests-hypothesis")


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: one worker more than the cores this process may use, since the tests
    that start servers, browsers and PostgreSQL spend part of their time waiting on
    them (xdist's own answer, the number of cores, when `PYTEST_XDIST_AUTO_NUM_WORKERS`
    is set: it reads that variable).

    Bought figure (docs/testing.md, 2 cores, quiet machine, 2026-12-06): the fast
    loop `pytest -m "not slow" -n auto` took 68.6-74.7 s of wall time with 2 workers
    and 55.3-57.1 s with 3 (4: 58.2 s), for the same ~97 s of CPU; the README's full
    command took 9 min 27 s with 2 workers in the last fresh-clone CI run and 8 min 1
    s with 3 here (4: 7 min 59 s; 746 s of CPU, so two cores are nearly full)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m "not slow"`, a module whose tests are all slow is not imported
    (`tests.marks.skip_whole_slow_module`)."""
    if marks.skip_whole_slow_module(collection_path, config.option.markexpr):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A PostgreSQL test (marked `postgres`, or using the cluster) is slow too: it
    starts a PostgreSQL server. In an xdist worker, the files with the most slow tests
    come first (`tests.marks.slow_files_first`; `--no-loadscope-reorder` keeps it).
    Every item has an id of its own, or the run stops (`tests.nodeids`): xdist would
    run one of the items sharing an id and skip the rest."""
    nodeids.give_operations_their_ids(items)
    nodeids.refuse_repeated_ids(items)
    for item in items:
        uses_cluster = "postgres_server" in getattr(item, "fixturenames", ())
        if item.get_closest_marker("postgres") is not None or uses_cluster:
            item.add_marker(pytest.mark.slow)
    if hasattr(config, "workerinput"):
        marks.slow_files_first(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    marks.current = item
    try:
        return (yield)
    finally:
        marks.current = None
