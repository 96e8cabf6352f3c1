"""Files the tests read: all inside this repository, and a missing one is an error.

A fixture that is not there fails the test run (at collection, for the
parametrised tests) instead of skipping or collecting nothing.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent

#: The `core.tabular_frame@v1` contract as published (see its README and LICENSE).
TABULAR_FRAME_V1 = TESTS / "contracts" / "tabular-frame-v1"
TABULAR_FRAME_V1_SCHEMA = TABULAR_FRAME_V1 / "tabular-frame-v1.schema.json"


class MissingFixtureError(FileNotFoundError):
    """A file the tests need is not in the repository."""


def fixture_file(path: Path) -> Path:
    """`path`, which must exist inside the tests folder."""
    if TESTS not in path.resolve().parents:
        raise MissingFixtureError(f"{path} is outside {TESTS}: tests read nothing outside")
    if not path.is_file():
        raise MissingFixtureError(f"test fixture {path} is missing")
    return path


def fixture_files(folder: Path, pattern: str = "*.json") -> list[Path]:
    """The files in `folder` matching `pattern`; at least one must exist."""
    found = sorted(fixture_file(path) for path in folder.glob(pattern))
    if not found:
        raise MissingFixtureError(f"no test fixtures {pattern} in {folder}")
    return found
