"""Honest dependencies: every runtime dependency is used, the tools are in `dev`."""

from __future__ import annotations

import ast
import re
import tomllib

from tests.fixtures import TESTS

ROOT = TESTS.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PACKAGES = ["algomancy_data", "algomancy_core", "algomancy_api", "algomancy_example"]

#: Distribution name -> the module it is imported as, where the two differ.
IMPORT_NAMES = {"SQLAlchemy": "sqlalchemy", "uvicorn": "uvicorn"}

#: Dependencies used without an import of their own: (file, text that uses it).
USED_INDIRECTLY = {
    "python-calamine": ("algomancy_data/files.py", 'engine="calamine"'),
    "python-multipart": ("algomancy_api/routers/etl.py", "UploadFile"),
}


def distribution(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match is not None, requirement
    return match.group(0)


def imported_modules() -> set[str]:
    """Top-level modules imported anywhere in our packages."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.partition(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.partition(".")[0])
    return found


def test_every_runtime_dependency_is_used() -> None:
    imported = imported_modules()
    unused = []
    for requirement in PROJECT["dependencies"]:
        name = distribution(requirement)
        if name in USED_INDIRECTLY:
            path, text = USED_INDIRECTLY[name]
            assert text in (ROOT / path).read_text(), (name, path)
            continue
        if IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported:
            unused.append(name)
    assert unused == []


def test_lint_and_type_tools_are_a_dev_extra_the_test_extra_includes() -> None:
    extras = PROJECT["optional-dependencies"]
    assert {distribution(r) for r in extras["dev"]} == {"ruff", "mypy", "pandas-stubs", "unasync"}
    assert all("==" in r for r in extras["dev"]), "the tools stay pinned"
    assert not {distribution(r) for r in PROJECT["dependencies"]} & {"ruff", "mypy", "pytest"}
    # The README's `pip install -e ".[test]"` still gives everything .ci/run checks with.
    assert "algomancy-api[dev]" in extras["test"]


def test_pandas_lower_bound_has_the_string_dtype_the_code_uses() -> None:
    """`StringDtype(na_value=...)` and pandas 3's `str` columns: pandas >= 3.0.1
    (.ci/run runs the suite against exactly that version)."""
    (pandas,) = [r for r in PROJECT["dependencies"] if distribution(r) == "pandas"]
    lower = tuple(int(part) for part in pandas.removeprefix("pandas>=").split("."))
    assert lower >= (3, 0, 1)
