"""`algomancy-api serve --validate`: build the wiring, check it, report, serve nothing.

Imported only when `--validate` is given (it loads the server stack).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from algomancy_api.config import ApiConfiguration

Report = Callable[[str], None]


def validate_wiring(config: ApiConfiguration, spec: str, say: Report) -> int:
    """Check what `serve` would run with, saying each finding; the exit code
    (0: it checks out, 1: something would keep the server from working)."""
    from algomancy_api.launcher import ApiLauncher

    say(f"configuration: {spec} ({config.title!r})")
    say(_listing("algorithms", list(config.algorithms)))
    say(_listing("kpis", list(config.kpis)))
    files = [_describe_schema(schema) for schema in config.schemas]
    say(_listing("files", files))
    failures = 0
    for name, algorithm in config.algorithms.items():
        try:
            algorithm.parameters()
        except Exception as exc:  # a broken parameter declaration is the user's to fix
            say(f"error: algorithm {name!r}: its parameters cannot be built: {exc}")
            failures += 1
    try:
        _build_etl_factory(config)
    except Exception as exc:
        say(f"error: the ETL factory cannot be built: {exc}")
        failures += 1
    try:
        app = ApiLauncher.build(config)
    except Exception as exc:
        say(f"error: the app cannot be built: {exc}")
        return 1
    say(f"app: {len(app.routes)} routes under {config.prefix}")
    store_ok = _check_store(config, say)
    executor = f"executor: {config.executor}, up to {config.max_workers} runs at once"
    if config.executor == "dask":
        executor += f" on {config.dask_address}"
    say(executor)
    say("authentication: " + ("on" if config.auth_enabled else "off"))
    if failures or not store_ok:
        say("the wiring has errors: fix them before serving")
        return 1
    say("ok: the wiring checks out (nothing was served)")
    return 0


def _build_etl_factory(config: ApiConfiguration) -> object:
    """The ETL factory as an upload builds it (see `Runtime.etl_factory`)."""
    from algomancy_data import DefaultETLFactory, ETLFactory

    factory = config.etl_factory
    if factory is None:
        return DefaultETLFactory(config.schemas)
    if isinstance(factory, ETLFactory):
        return factory
    return factory(config.schemas or None)


def _listing(label: str, names: list[str]) -> str:
    return f"{label}: {len(names)}" + (f" ({', '.join(names)})" if names else "")


def _describe_schema(schema: object) -> str:
    from algomancy_data import Schema

    assert isinstance(schema, Schema)
    if schema.has_sheets:
        return f"{schema.filename} [{', '.join(schema.tables)}]"
    return schema.filename


def _check_store(config: ApiConfiguration, say: Report) -> bool:
    """Say where state would be kept; reach the database without changing it."""
    import sqlalchemy as sa

    from algomancy_core.stores import store_url
    from algomancy_core.stores.sql import normalize_url

    url = store_url(config)
    if url is None:
        say("store: in memory (nothing is kept across restarts)")
        return True
    parsed = sa.make_url(normalize_url(url))
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        return _check_sqlite_file(Path(parsed.database or "").expanduser(), shown, say)
    try:
        engine = sa.create_engine(parsed)
        try:
            with engine.connect() as conn:
                version = conn.execute(sa.text("SELECT version()")).scalar()
        finally:
            engine.dispose()
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        say(f"error: store: cannot reach {shown}: {detail}")
        return False
    say(f"store: {shown} (reached: {str(version).split(',')[0]})")
    return True


def _check_sqlite_file(path: Path, shown: str, say: Report) -> bool:
    path = path.resolve()
    if path.exists():
        try:
            with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.Error as exc:
            say(f"error: store: {path} is not a readable SQLite database: {exc}")
            return False
        say(f"store: SQLite file {path} (exists, {tables} schema objects)")
        return True
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is None or not folder.is_dir() or not _writable(folder):
        say(f"error: store: {path} cannot be created ({folder} is not a writable folder)")
        return False
    say(f"store: SQLite file {path} (created on first start)")
    return True


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)
