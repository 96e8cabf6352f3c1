"""Workbooks are parsed in child processes within memory and time limits: whatever
a workbook does, the calling process survives and gets a failed read naming the
limit; a child that dies is replaced."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from algomancy_data import FileReadError, ReadLimits, XLSXFile
from algomancy_data.formulas import sheet_formulas_as_text
from algomancy_data.limits import LimitExceeded
from algomancy_data.parsepool import ParsePool, shared_pool
from algomancy_data.zipparts import CHUNK, PartTooLarge, inflate
from tests import hostile
from tests.polling import wait_for

#: Parser child processes, killed and replaced.
pytestmark = pytest.mark.slow

ODD_PATHS = ["xl/sheets/sheet1.xml", "xl/worksheets/sheet1.XML"]


@pytest.fixture
def pool() -> Iterator[ParsePool]:
    own = ParsePool(1)
    yield own
    own.close()


@pytest.mark.parametrize("path", ODD_PATHS)
def test_a_sheet_stored_anywhere_is_read(path: str) -> None:
    data = hostile.relocated_workbook(hostile.sheet_xml([hostile.HEADER]), path)
    assert list(XLSXFile.from_bytes("stock.xlsx", data).read()) == ["stock"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_a_far_cell_in_a_sheet_stored_anywhere_is_refused(path: str) -> None:
    data = hostile.far_cell_at(path)
    assert len(data) < 2000
    with pytest.raises(FileReadError, match="max_table_cells") as caught:
        XLSXFile.from_bytes("stock.xlsx", data).read()
    assert caught.value.code == "too_large"


def test_a_reader_abort_fails_the_read_and_the_child_is_replaced() -> None:
    # Past the pre-check (its cell limit lifted), calamine asks for 512 GiB and aborts
    # its process: here that is a parser child, not this process.
    pool = shared_pool()
    replaced = pool.replaced
    limits = ReadLimits(max_table_cells=2**40)
    with pytest.raises(FileReadError, match="xlsx_parse_memory_bytes") as caught:
        XLSXFile.from_bytes("stock.xlsx", hostile.far_cell_at(ODD_PATHS[0]), limits).read()
    assert caught.value.code == "too_large"
    assert pool.replaced == replaced + 1
    assert XLSXFile.from_bytes("stock.xlsx", hostile.small_workbook()).read()["stock"].shape == (
        1,
        2,
    )


def test_the_memory_limit_stops_a_parse_within_the_cell_limit() -> None:
    # 702 columns x 20,000 rows: a 14-million-cell grid, far over 600 MB of address
    # space (the interpreter and its libraries take about 400 MB).
    limits = ReadLimits(max_table_cells=10**9, xlsx_parse_memory_bytes=600 * 1024 * 1024)
    data = hostile.far_cell_workbook("ZZ20000")
    with pytest.raises(FileReadError, match="xlsx_parse_memory_bytes"):
        XLSXFile.from_bytes("stock.xlsx", data, limits).read()
    assert XLSXFile.from_bytes("stock.xlsx", hostile.small_workbook()).read()


def test_the_cpu_limit_kills_a_runaway_child(
    pool: ParsePool, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(LimitExceeded, match="xlsx_parse_seconds") as caught:
        pool.run(sum, (range(10**12),), seconds=1)
    assert caught.value.code == "too_large"
    assert pool.replaced == 1
    assert [r.event for r in caplog.records] == ["parser-replaced"]  # type: ignore[attr-defined]
    assert pool.run(sum, ([1, 2],)) == 3


def test_a_cancelled_parse_kills_its_child(pool: ParsePool) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(LimitExceeded, match="client left"):
        pool.run(sum, (range(10**12),), seconds=600, cancel=cancel)
    assert pool.replaced == 1
    assert pool.run(sum, ([1, 2],)) == 3


def test_callers_beyond_the_pool_size_wait_then_give_up(pool: ParsePool) -> None:
    started = threading.Event()

    def hold() -> None:
        started.set()
        with pytest.raises(LimitExceeded):
            pool.run(time.sleep, (600,), seconds=3)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait()
    # Until the holder has the one child's slot: a whole suite's load once let this
    # thread take it first (and the holder then waited instead).
    wait_for(lambda: pool._slots._value, lambda free: free == 0, what="the slot to be taken")  # type: ignore[attr-defined]
    with pytest.raises(LimitExceeded, match="busy") as caught:
        pool.run(sum, ([1],), seconds=1)
    assert caught.value.code == "busy"
    holder.join()


def test_a_childs_own_error_comes_back(pool: ParsePool) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        pool.run(divmod, (1, 0))
    assert pool.replaced == 0


def test_inflation_stops_at_the_cap_whatever_the_directory_says() -> None:
    data = hostile.lying_directory(
        hostile.bomb_workbook(64 * 1024 * 1024), "xl/worksheets/sheet1.xml"
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    member = archive.getinfo("xl/worksheets/sheet1.xml")
    assert member.file_size == 1000
    with pytest.raises(PartTooLarge) as caught:
        for _ in inflate(data, member, 2 * 1024 * 1024):
            pass
    assert caught.value.inflated <= 2 * 1024 * 1024 + CHUNK


def test_a_lying_zip_directory_is_refused_without_inflating_it_all() -> None:
    data = hostile.lying_directory(
        hostile.bomb_workbook(64 * 1024 * 1024), "xl/worksheets/sheet1.xml"
    )
    with pytest.raises(FileReadError, match="max_compression_ratio") as caught:
        XLSXFile.from_bytes("stock.xlsx", data).read()
    assert "more than 100 times" in str(caught.value)
    lying_total = hostile.lying_directory(
        hostile.bomb_workbook(300_000), "xl/worksheets/sheet1.xml"
    )
    limits = ReadLimits(max_decompressed_bytes=200_000)
    with pytest.raises(FileReadError, match="max_decompressed_bytes"):
        XLSXFile.from_bytes("stock.xlsx", lying_total, limits).read()


@pytest.mark.parametrize(
    "xml",
    [
        # formula starts without a closing cell, and without any cell: the old
        # rewrite searched to the end (or back to the start) for each of them
        b'<sheetData><row r="1">' + b'<c r="A1"><f>1' * (1024 * 1024 // 14),
        b"<sheetData>" + b"<f>1</f>" * (1024 * 1024 // 8),
        b"<sheetData>" + b'<c r="A1"><f>1+1</f></c>' * (1024 * 1024 // 24),
    ],
    ids=["cells-never-closed", "formulas-outside-cells", "formula-cells"],
)
def test_the_formula_rewrite_of_a_1_mib_sheet_is_within_a_small_cpu_limit(
    pool: ParsePool, xml: bytes
) -> None:
    # The quadratic rewrite took about 110 CPU-seconds on the first two; the linear one
    # takes well under a second. The bound (of CPU and of wall time) lies between, far
    # from both, so that a loaded machine does not fail it: the child is started
    # first, so that its start is not counted.
    assert len(xml) > 1000 * 1024
    assert pool.run(len, (b"",)) == 0
    out = pool.run(sheet_formulas_as_text, (xml,), seconds=30)
    assert len(out) >= len(xml) // 2


def test_the_formula_rewrite_is_bounded_by_the_bytes_it_writes() -> None:
    xml = b"<sheetData>" + b'<c r="A1"><f>1+1</f></c>' * 1000
    with pytest.raises(LimitExceeded, match="max_decompressed_bytes"):
        sheet_formulas_as_text(xml, max_bytes=10_000)


def test_a_child_that_exits_is_a_failure_not_a_memory_limit(pool: ParsePool) -> None:
    with pytest.raises(RuntimeError, match="exit code 3"):
        pool.run(os._exit, (3,))
    assert pool.replaced == 1


def test_the_child_imports_through_this_processs_path(
    pool: ParsePool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Started elsewhere, the child finds `tests` only on the path pytest set up here.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert pool.run(hostile.small_workbook, ()) == hostile.small_workbook()


def test_a_parser_child_starts_without_a_word_on_stderr() -> None:
    """The child's stderr is the server's log (JSON lines with `--log-format json`):
    `algomancy_data.parseworker`, run with ``-m``, must not be imported already by
    the package, or runpy warns there on every start."""
    code = (
        "import algomancy_data.parsepool, algomancy_api.etlchild, sys; "
        "print('algomancy_data.parseworker' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False", loaded.stderr
    started = subprocess.run(
        [sys.executable, "-m", "algomancy_data.parseworker", "nope"], capture_output=True, text=True
    )
    assert "RuntimeWarning" not in started.stderr
