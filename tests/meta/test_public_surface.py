"""The public surface of the three packages, and the layering between them.

`__all__` changes only on purpose (this test says what it is); `algomancy_data`
imports nothing of ours and `algomancy_core` no web framework, neither when imported
(checked in a fresh interpreter) nor anywhere in their source (checked statically,
so that lazily imported modules count too).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import algomancy_api
import algomancy_core
import algomancy_data
from tests.fixtures import TESTS

ROOT = TESTS.parent

PUBLIC = {
    algomancy_data: [
        "CSVFile",
        "Column",
        "ColumnType",
        "DataClassification",
        "DataSource",
        "DefaultETLFactory",
        "ETLFactory",
        "ETLResult",
        "File",
        "FileReadError",
        "JSONFile",
        "LimitExceeded",
        "ReadLimits",
        "Schema",
        "Severity",
        "ValidationMessage",
        "XLSXFile",
        "content_digest",
        "file_from_bytes",
    ],
    algomancy_core: [
        "AlgomancyError",
        "BaseAlgorithm",
        "BaseKPI",
        "BaseParameterSet",
        "BaseResult",
        "BinaryKPI",
        "BooleanParameter",
        "ConfigurationError",
        "ConflictError",
        "CoreConfig",
        "CoreError",
        "DateParameter",
        "DateTimeParameter",
        "Engine",
        "EnumParameter",
        "FloatParameter",
        "IntegerParameter",
        "Interval",
        "IntervalParameter",
        "InvalidInputError",
        "InvalidTransitionError",
        "KpiDirection",
        "KpiError",
        "MemoryStore",
        "MultiEnumParameter",
        "NotFoundError",
        "Parameter",
        "ParameterError",
        "ResultView",
        "RunCancelledError",
        "RunContext",
        "Runtime",
        "ScenarioManager",
        "ScenarioRecord",
        "ScenarioStatus",
        "SessionManager",
        "SessionRecord",
        "Store",
        "StringParameter",
    ],
    algomancy_api: ["AlgomancyClient", "AlgomancyError", "ApiConfiguration", "ApiLauncher"],
}

#: What each package must never import: (its own name, forbidden top-level modules).
LAYERS = {
    "algomancy_data": {
        "algomancy_core",
        "algomancy_api",
        "algomancy_example",
        "fastapi",
        "starlette",
        "uvicorn",
    },
    "algomancy_core": {"algomancy_api", "algomancy_example", "fastapi", "starlette", "uvicorn"},
}


@pytest.mark.parametrize("package", list(PUBLIC), ids=lambda p: p.__name__)
def test_all_is_pinned_sorted_and_importable(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert names == PUBLIC[package]  # type: ignore[index]
    assert names == sorted(names)
    for name in names:
        assert getattr(package, name) is not None, name


@pytest.mark.slow  # a fresh interpreter per package
@pytest.mark.parametrize("package", list(LAYERS))
def test_importing_a_lower_package_loads_nothing_above_it(package: str) -> None:
    """In a fresh interpreter, `import package` leaves no forbidden module loaded."""
    script = f"import sys, json, {package}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = {name.partition(".")[0] for name in json.loads(done.stdout)}
    assert loaded & LAYERS[package] == set()
    assert package in loaded


def imports_in(folder: Path) -> dict[str, set[str]]:
    """Top-level modules each source file under `folder` imports (absolute imports)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.partition(".")[0])
        found[str(path.relative_to(folder))] = names
    return found


@pytest.mark.parametrize("package", list(LAYERS))
def test_no_source_file_imports_across_the_layering(package: str) -> None:
    crossing = {
        path: sorted(names & LAYERS[package])
        for path, names in imports_in(ROOT / package).items()
        if names & LAYERS[package]
    }
    assert crossing == {}


def test_the_static_check_sees_lazy_imports(tmp_path: Path) -> None:
    """Not vacuous: imports inside functions are found too."""
    (tmp_path / "lazy.py").write_text("def f():\n    from fastapi import FastAPI\n")
    assert imports_in(tmp_path) == {"lazy.py": {"fastapi"}}
