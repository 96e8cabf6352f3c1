"""`algomancy-api init`: a runnable project, its schemas inferred from samples."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from openpyxl import Workbook

from algomancy_api import AlgomancyClient, cli
from tests.meta.test_light_imports import HEAVY, loaded_after
from tests.server import ServerProcess

ORDERS = "order_id,sku,qty,day\n1,A,3,31-01-2026\n2,B,,01-02-2026\n"


def samples(folder: Path) -> list[Path]:
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "skus"
    sheet.append(["sku", "weight"])
    sheet.append(["A", 1.5])
    book.create_sheet("zones").append(["zone"])
    book["zones"].append(["north"])
    book.save(folder / "warehouse.xlsx")
    return [folder / "orders.csv", folder / "warehouse.xlsx"]


def test_init_writes_the_project_and_says_how_to_serve_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = samples(tmp_path / "in")
    root = tmp_path / "my-plan"
    assert cli.main(["init", str(root), "--from-samples", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "schema orders.csv: orders (4 columns)" in out
    assert "schema warehouse.xlsx: skus (2 columns), zones (1 column)" in out
    assert "algomancy-api serve --config my_plan.api:config" in out
    assert (root / "samples" / "warehouse.xlsx").read_bytes() == files[1].read_bytes()
    schemas = (root / "my_plan" / "schemas.py").read_text()
    assert 'Column("order_id", "integer", primary_key=True)' in schemas
    assert 'Column("qty", "integer")' in schemas
    assert 'Column("day", "date", nullable=False, formats=["%d-%m-%Y"])' in schemas
    assert '"skus": [' in schemas and '"zones": [' in schemas
    assert "SCHEMAS = [ORDERS, WAREHOUSE]" in schemas
    for name in ("api.py", "algorithm.py", "kpis.py", "__init__.py"):
        assert (root / "my_plan" / name).is_file()
    assert (root / "tests" / "test_server.py").is_file()


def test_a_folder_of_samples_is_read_and_without_samples_a_small_one_is_written(
    tmp_path: Path,
) -> None:
    samples(tmp_path / "in")
    assert cli.main(["init", str(tmp_path / "a"), "--from-samples", str(tmp_path / "in")]) == 0
    assert sorted(p.name for p in (tmp_path / "a" / "samples").iterdir()) == [
        "orders.csv",
        "warehouse.xlsx",
    ]
    assert cli.main(["init", str(tmp_path / "b")]) == 0
    assert [p.name for p in (tmp_path / "b" / "samples").iterdir()] == ["items.csv"]
    assert "ITEMS = Schema(" in (tmp_path / "b" / "b" / "schemas.py").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["orders.csv"], "give --from-samples before the sample files"),
        (["--from-samples"], "--from-samples needs at least one sample file"),
    ],
)
def test_bad_usage_exits_2(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["init", str(tmp_path / "p"), *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_what_cannot_be_written_is_refused_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = samples(tmp_path / "in")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    (tmp_path / "in" / "orders.xlsx").write_bytes(files[1].read_bytes())
    cases = [
        (["init", str(tmp_path / "full")], "is not empty (pass --force"),
        (["init", str(tmp_path / "p"), "--from-samples", str(tmp_path / "nope.csv")], "no such"),
        (
            ["init", str(tmp_path / "p"), "--from-samples", str(tmp_path / "in")],
            "samples orders.csv and orders.xlsx have the same name",
        ),
        (["init", str(tmp_path / "json")], "would be named 'json', which is taken"),
        (["init", str(tmp_path / "tests")], "would be named 'tests', which is taken"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_:
            cli.main(args)
        assert exit_.value.code == 1
        assert message in capsys.readouterr().err
    assert cli.main(["init", str(tmp_path / "full"), "--force"]) == 0
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.slow  # a fresh interpreter
def test_init_help_loads_no_server_stack_nor_pandas() -> None:
    code = (
        "from algomancy_api.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['init', '--help'])\n"
        "assert '--from-samples' in out.getvalue()"
    )
    assert loaded_after(code) & HEAVY == set()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init")
    root = folder / "depot"
    files = samples(folder / "in")
    assert cli.main(["init", str(root), "--from-samples", *map(str, files)]) == 0
    return root


@pytest.mark.slow
def test_the_project_passes_its_own_tests_in_a_fresh_venv(project: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # No pip, no setuptools of its own: those of the test environment, found below.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The packages of the test environment (algomancy-api, pytest, pip, setuptools,
    # wheel), so that nothing is downloaded.
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "test-environment.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", "."],
        cwd=project,
        env=env,
        check=True,
        timeout=300,
    )
    installed = subprocess.run(
        [python, "-c", "import depot.api; print(depot.api.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout.strip() == str(project / "depot" / "api.py")
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,  # not the project: its package is found as installed
        env=env | {"PYTEST_ADDOPTS": f"--rootdir={project} {project / 'tests'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


@pytest.mark.slow
def test_serve_config_serves_the_project_at_once(project: Path) -> None:
    with (
        ServerProcess(["--config", "depot.api:config", "--in-memory"], project) as server,
        AlgomancyClient(server.base) as client,
    ):
        assert client.health().status == "ok"
        assert client.algorithms() == ["Count rows"]
        etl = client.upload("Samples", *sorted((project / "samples").iterdir()))
        assert etl.success, etl.messages
        assert client.dataset_tables("Samples")
