"""App settings, the admin log page, the parameter file and dataset JSON files, in
Chromium against a server with title, logo, accent, no session picker and API keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import screenshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd = tmp_path_factory.mktemp("webapp-branded")
    with ServerProcess(["--config", "tests.webapp.domain:branded", "--in-memory"], cwd) as s:
        yield s


def sign_in(page: Page, server: ServerProcess, key: str, where: str = "scenarios") -> None:
    page.goto(f"{server.base}/#/{where}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user")).to_contain_text("Signed in as")


def test_title_logo_accent_and_no_session_picker(page: Page, server: ServerProcess) -> None:
    sign_in(page, server, "k-bob")
    expect(page).to_have_title("Slotting desk")
    header = page.locator("header.top")
    expect(header.get_by_test_id("app-title")).to_have_text("Slotting desk")
    logo = header.locator("img.brand-logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("(img) => img.complete && img.naturalWidth > 0")
    accent = page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert accent == "#0f766e"
    create = page.get_by_role("button", name="Create scenario")
    colour = create.evaluate("(b) => getComputedStyle(b).borderColor")
    assert colour == "rgb(15, 118, 110)"
    expect(page.locator("#session-switch")).to_have_count(0)
    expect(header.get_by_role("link", name="Sessions")).to_have_count(0)
    # bob is no administrator: no Admin link, and the page says so.
    expect(header.get_by_role("link", name="Data")).to_be_visible()
    expect(header.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(f"{server.base}/#/sessions/main/admin")
    expect(page.get_by_role("alert")).to_contain_text("administrators only")


def test_the_admin_reads_and_filters_the_log(page: Page, server: ServerProcess) -> None:
    sign_in(page, server, "k-root")
    page.locator("header.top").get_by_role("link", name="Admin").click()
    log = page.get_by_role("table", name="Log lines")
    # The server's start-up lines (uvicorn's and ours) are in the buffer.
    expect(log).to_contain_text("serving Algomancy warehouse example under /api/v1")
    expect(log.locator("tbody tr").first).to_be_visible()
    page.get_by_label("Text").fill("authentication: on")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text("2 API key(s)")
    page.get_by_label("Text").fill("")
    page.get_by_label("Level").select_option("warning")
    expect(
        page.get_by_role("table", name="Log lines").or_(page.get_by_text("No lines match."))
    ).to_be_visible()
    for level in page.locator("table.log tbody tr").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.level)"
    ):
        assert level in ("WARNING", "ERROR", "CRITICAL")
    page.get_by_label("Level").select_option("")
    # A request made now shows up while the page follows the log.
    page.get_by_label("Logger").fill("uvicorn.access")
    expect(page.get_by_role("table", name="Log lines")).to_contain_text("/admin/logs")
    screenshot(page, "admin-log")


def test_parameters_load_from_a_json_file(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    sign_in(page, server, "k-bob")
    page.get_by_label("Algorithm").select_option("Random slotting")
    expect(page.get_by_label("seed")).to_be_visible()
    # The form is whole once the dataset's data parameters are in.
    expect(page.get_by_label("demand_growth")).to_have_value("1")
    good = tmp_path / "params.json"
    good.write_text(json.dumps({"algo_params": {"seed": 7}, "data_params": {"demand_growth": 1.5}}))
    page.get_by_label("Load parameters from a JSON file").set_input_files(str(good))
    expect(page.get_by_test_id("parameter-file")).to_contain_text("Loaded 2 value(s)")
    expect(page.get_by_label("seed")).to_have_value("7")
    expect(page.get_by_label("demand_growth")).to_have_value("1.5")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"speed": 3}))
    page.get_by_label("Load parameters from a JSON file").set_input_files(str(bad))
    expect(page.get_by_test_id("parameter-file").get_by_role("alert")).to_contain_text(
        "bad.json: unknown parameter(s) speed (there are: seed, travel_speed_m_s)"
    )
    expect(page.get_by_label("seed")).to_have_value("7")
    page.get_by_label("Tag").fill("from file")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("row", name=re.compile(r"^seed "))).to_contain_text("7")
    expect(detail.get_by_role("row", name="demand_growth")).to_contain_text("1.5")


#: Holds back the answer for the first algorithm's parameters by 1.5 s.
SLOW_FIRST_ALGORITHM = """(() => {
  const plain = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const answer = plain(input, init);
    if (String(input).includes("/algorithms/Slow/parameters")) {
      await new Promise((done) => setTimeout(done, 1500));
    }
    return answer;
  };
})()"""


def test_a_late_answer_for_the_algorithm_left_does_not_replace_the_chosen_ones(
    page: Page, server: ServerProcess
) -> None:
    """The form asks for the first algorithm's parameters as it opens; a planner who
    picks another before that answer comes sees the other's parameters, not the
    first's drawn over them when it arrives (a race CI met once)."""
    page.add_init_script(SLOW_FIRST_ALGORITHM)
    sign_in(page, server, "k-bob")
    expect(page.get_by_label("Algorithm")).to_have_value("Slow")
    page.get_by_label("Algorithm").select_option("Random slotting")
    expect(page.get_by_label("seed")).to_be_visible()
    page.wait_for_timeout(2000)  # past the held-back answer for "Slow"
    expect(page.get_by_label("seed")).to_be_visible()
    expect(page.get_by_label("duration")).to_have_count(0)
    page.get_by_label("Tag").fill("chosen")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail).to_contain_text("Random slotting")


def test_a_dataset_goes_out_and_back_as_json_and_is_saved_as_master(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    sign_in(page, server, "k-bob", "data")
    page.get_by_role("button", name="Master data").click()
    with page.expect_download() as saved:
        page.get_by_role("button", name="Download dataset as JSON").click()
    assert saved.value.suggested_filename == "Master data.json"
    target = tmp_path / "dataset.json"
    saved.value.save_as(target)
    dataset = json.loads(target.read_text())
    assert dataset["name"] == "Master data" and "sku_data" in dataset["tables"]
    # Back in under another name.
    dataset["name"] = "Monday"
    target.write_text(json.dumps(dataset))
    upload = page.get_by_test_id("dataset-json-upload")
    upload.get_by_label("Dataset JSON file").set_input_files(str(target))
    expect(upload).to_contain_text('Loaded dataset "Monday" from dataset.json.')
    expect(page.get_by_role("heading", name="Dataset: Monday")).to_be_visible()
    # The same file again: the name is taken.
    upload.get_by_label("Dataset JSON file").set_input_files(str(target))
    expect(upload.get_by_role("alert")).to_contain_text("Monday")
    # Derive a copy, then save that as master data.
    page.get_by_label("Derive a copy named").fill("Monday draft")
    page.get_by_role("button", name="Derive").click()
    expect(page.get_by_role("heading", name="Dataset: Monday draft")).to_be_visible()
    page.get_by_label("Save as master data named").fill("Monday final")
    page.get_by_role("button", name="Save as master").click()
    expect(page.get_by_role("heading", name="Dataset: Monday final")).to_be_visible()
    expect(page.get_by_role("button", name="Monday final")).to_be_visible()
    screenshot(page, "data-json-master")
