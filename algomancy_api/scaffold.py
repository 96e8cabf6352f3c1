"""`algomancy-api init`: write a runnable project, its schemas inferred from samples.

The project (``PATH/``, package named after the folder)::

    pyproject.toml      installable (pip install -e .), pytest configured
    README.md           how to serve it and test it
    samples/            the sample files (or a small items.csv when none are given)
    <package>/schemas.py    one Schema per sample file, inferred
    <package>/algorithm.py  an algorithm shell (counts rows per table)
    <package>/kpis.py       a KPI shell
    <package>/api.py        `config`, the ApiConfiguration `serve --config` takes
    tests/test_server.py    starts the app, uploads the samples, runs the algorithm

Served at once with ``algomancy-api serve --config <package>.api:config`` in PATH.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import re
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from algomancy_data import Column, Schema
from algomancy_data.inference import READERS, infer_schema

DEFAULT_SAMPLE = "items.csv"
DEFAULT_SAMPLE_TEXT = "item,description,quantity,weight_kg\nA1,Flour,12,25.0\nB2,Sugar,7,10.5\n"


class ScaffoldError(ValueError):
    """The project cannot be written as asked (the message says why)."""


@dataclass
class Project:
    """What `create_project` wrote."""

    root: Path
    package: str
    schemas: list[Schema]
    files: list[Path] = field(default_factory=list)

    @property
    def config_spec(self) -> str:
        """What `serve --config` takes."""
        return f"{self.package}.api:config"


def package_name(path: Path) -> str:
    """A Python package name from the folder's name (``my-plan`` → ``my_plan``)."""
    name = re.sub(r"\W+", "_", path.resolve().name.lower()).strip("_")
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"project_{name}".rstrip("_")
    return name


def _check_free(package: str, root: Path) -> None:
    """Refuse a package name that would shadow a module already importable (the
    project's own folders aside: `--force` into a project found from here)."""
    spec = importlib.util.find_spec(package) if package not in ("tests", "samples") else None
    ours = {root.resolve(), (root / package).resolve()}
    where = {Path(p).resolve() for p in (spec.submodule_search_locations or [])} if spec else set()
    if package in ("tests", "samples") or (spec is not None and not where & ours):
        raise ScaffoldError(
            f"the package would be named {package!r}, which is taken (a module of that name "
            "is already importable, or the project uses the name); pick another folder name"
        )


def sample_files(paths: Sequence[Path]) -> list[Path]:
    """The files among `paths`, a folder giving its CSV, XLSX and JSON files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.iterdir() if p.suffix.lower().lstrip(".") in READERS)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise ScaffoldError(f"sample {path}: no such file or folder")
    stems: dict[str, Path] = {}
    for path in found:
        if path.suffix.lower().lstrip(".") not in READERS:
            raise ScaffoldError(f"sample {path.name}: only .csv, .xlsx and .json files are read")
        other = stems.setdefault(path.stem, path)
        if other != path:
            raise ScaffoldError(
                f"samples {other.name} and {path.name} have the same name; each file's name "
                "is the name it is uploaded under, so rename one"
            )
    if not found:
        raise ScaffoldError("no sample files found (.csv, .xlsx, .json)")
    return found


def create_project(
    root: Path, samples: Sequence[Path] = (), *, title: str | None = None, force: bool = False
) -> Project:
    """Write the project into `root` (new, or empty unless `force`); what was written."""
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root} is a file, not a folder")
    if root.exists() and any(root.iterdir()) and not force:
        raise ScaffoldError(f"{root} is not empty (pass --force to write into it anyway)")
    files = sample_files(list(samples)) if samples else []
    schemas = []
    for path in files:
        try:
            schemas.append(infer_schema(path))
        except Exception as exc:
            raise ScaffoldError(f"sample {path.name}: {exc}") from exc
    package = package_name(root)
    _check_free(package, root)
    project = Project(root, package, schemas)
    sample_dir = root / "samples"
    sample_dir.mkdir(parents=True, exist_ok=True)
    if files:
        for path in files:
            shutil.copyfile(path, sample_dir / path.name)
    else:
        (sample_dir / DEFAULT_SAMPLE).write_text(DEFAULT_SAMPLE_TEXT, encoding="utf-8")
        project.schemas = [infer_schema(sample_dir / DEFAULT_SAMPLE)]
    title = title or root.resolve().name.replace("_", " ").replace("-", " ").title()
    texts = {
        "pyproject.toml": PYPROJECT.format(name=package.replace("_", "-"), package=package),
        "README.md": README.format(title=title, package=package),
        f"{package}/__init__.py": f'"""{title}: an Algomancy project."""\n',
        f"{package}/schemas.py": render_schemas(project.schemas, [p.name for p in files]),
        f"{package}/algorithm.py": ALGORITHM,
        f"{package}/kpis.py": KPIS,
        f"{package}/api.py": API.format(title=title, package=package),
        "tests/__init__.py": "",
        "tests/test_server.py": TEST.format(package=package),
    }
    for relative, text in texts.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        project.files.append(target)
    return project


def _variable(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", name).strip("_").upper() or "FILE"
    if base[0].isdigit():
        base = f"FILE_{base}"
    variable, n = base, 2
    while variable in taken or variable == "SCHEMAS":
        variable, n = f"{base}_{n}", n + 1
    taken.add(variable)
    return variable


def _q(text: str) -> str:
    """`text` as a double-quoted Python string literal (JSON's escapes are Python's)."""
    return json.dumps(text, ensure_ascii=False)


def render_column(column: Column) -> str:
    """The `Column(...)` call that declares `column`."""
    parts = [_q(column.name), _q(column.column_type.value)]
    if column.primary_key:
        parts.append("primary_key=True")
    elif not column.nullable:
        parts.append("nullable=False")
    if column.formats:
        parts.append(f"formats=[{', '.join(map(_q, column.formats))}]")
    return f"Column({', '.join(parts)})"


def _render_columns(columns: Sequence[Column], indent: str) -> str:
    lines = [f"{indent}{render_column(c)}," for c in columns]
    return "[\n" + "\n".join(lines) + f"\n{indent[:-4]}]"


def render_schemas(schemas: Sequence[Schema], sources: Sequence[str]) -> str:
    """The source of a module declaring `schemas` and listing them in `SCHEMAS`."""
    origin = ", ".join(sources) if sources else f"samples/{DEFAULT_SAMPLE}"
    summary = textwrap.fill(
        f"The files the ETL accepts, inferred by `algomancy-api init` from {origin}.", 88
    )
    out = [
        f'"""{summary}\n\nA sample shows what the data holds, not what it may hold: check the '
        "types,\nwhich columns may be blank (nullable) and the primary keys.\n"
        '"""\n\n',
        "from algomancy_data import Column, Schema\n",
    ]
    taken: set[str] = set()
    names = []
    for schema in schemas:
        variable = _variable(schema.name, taken)
        names.append(variable)
        head = (
            f"{variable} = Schema(\n    {_q(schema.name)},\n    extension={_q(schema.extension)},\n"
        )
        if schema.has_sheets:
            sheets = "".join(
                f"        {_q(sheet)}: {_render_columns(cols, ' ' * 12)},\n"
                for sheet, cols in schema.tables.items()
            )
            body = f"    sheets={{\n{sheets}    }},\n"
        else:
            body = f"    columns={_render_columns(schema.tables[schema.name], ' ' * 8)},\n"
        out.append(f"\n{head}{body})\n")
    out.append(f"\nSCHEMAS = [{', '.join(names)}]\n")
    return "".join(out)


PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["algomancy-api"]

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.ruff]
line-length = 100

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
filterwarnings = [
    "error",
    # Starlette asks for the httpx2 fork in its TestClient; httpx works the same here.
    "ignore:Using `httpx` with `starlette.testclient` is deprecated",
]
"""

README = """\
# {title}

An [Algomancy](https://pypi.org/project/algomancy-api/) project, written by
`algomancy-api init`.

- `{package}/schemas.py`: the files the ETL accepts, inferred from `samples/`;
- `{package}/algorithm.py`: the algorithm (a shell that counts rows: put yours there);
- `{package}/kpis.py`: what scenarios are compared by;
- `{package}/api.py`: `config`, the wiring the server runs.

Serve it (the web app at http://127.0.0.1:8051/, upload the files in `samples/`):

    algomancy-api serve --config {package}.api:config

Check the wiring without serving: add `--validate`. Test it:

    pip install -e ".[test]" && pytest
"""

ALGORITHM = '''\
"""The algorithm: a shell that counts the rows of every table. Put yours in `run`."""

import pandas as pd
from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    RunContext,
)
from algomancy_data import DataSource


class CountParameters(BaseParameterSet):
    weight = FloatParameter(
        default=1.0, min=0.0, max=10.0, description="Multiplies the row counts (an example)"
    )


class CountRows(BaseAlgorithm):
    """Counts the rows of each table of the dataset."""

    name = "Count rows"
    description = "Counts the rows of every table (a shell to replace with your algorithm)"
    parameters = CountParameters
    params: CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        tables = data.list_tables()
        counts = []
        for done, table in enumerate(tables):
            ctx.progress(done / len(tables), f"reading {table}")
            counts.append((table, len(data.get_table(table)) * self.params.weight))
        ctx.progress(1.0, "done")
        summary = pd.DataFrame(counts, columns=["table", "rows"])
        return BaseResult(
            {"rows": float(summary["rows"].sum()), "tables": len(tables)},
            {"summary": summary},
        )
'''

KPIS = '''\
"""What scenarios are compared by."""

from algomancy_core import BaseKPI, BaseResult, KpiDirection


class TotalRows(BaseKPI):
    name = "total_rows"
    unit = "rows"
    direction = KpiDirection.HIGHER
    description = "Rows in all tables, weighted"

    def compute(self, result: BaseResult) -> float:
        return float(result.values["rows"])
'''

API = '''\
"""The wiring: ``algomancy-api serve --config {package}.api:config``."""

from algomancy_api import ApiConfiguration

from {package}.algorithm import CountRows
from {package}.kpis import TotalRows
from {package}.schemas import SCHEMAS

config = ApiConfiguration(
    title="{title}",
    schemas=SCHEMAS,
    algorithms=[CountRows],
    kpis=[TotalRows],
)
'''

TEST = '''\
"""The server starts, takes the sample files and runs the algorithm on them."""

from pathlib import Path

from algomancy_api import AlgomancyClient, ApiLauncher
from fastapi.testclient import TestClient

from {package}.api import config

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_the_server_runs_the_algorithm_on_the_samples() -> None:
    app = ApiLauncher.build(config.replace(allowed_hosts=["testserver"]))
    with TestClient(app) as http, AlgomancyClient("http://testserver", http=http) as client:
        assert client.health().status == "ok"
        assert client.algorithms() == ["Count rows"]
        etl = client.upload("Samples", *sorted(SAMPLES.iterdir()))
        assert etl.success, [m.message for m in etl.messages]
        scenario = client.create_scenario("first", "Samples", "Count rows")
        client.run(scenario.id)
        done = client.wait(scenario.id, progress=False, timeout=60)
        assert done.status == "complete", done
        assert done.kpis["total_rows"].value > 0
'''
