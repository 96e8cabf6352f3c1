"""The Studies page in Chromium against a real server, offline: create a study from
the form, follow it to the end, see its optimisation history drawn, open a trial's
scenario and pin the best as the session's baseline; a two-objective study with a
constraint draws its Pareto front."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import screenshot
from .test_webapp_access import LOW_CONTRAST, UNLABELLED
from .test_webapp_experiments import DRAWN_PIXELS
from .test_webapp_workflow import API, open_app

pytestmark = pytest.mark.slow

#: Pixels of the charts' colours: blue trials, orange best-so-far line or Pareto set.
CHART_PIXELS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let blue = 0, orange = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 120 && b > 180 && r < 110) blue += 1;
    if (a > 120 && r > 200 && g < 150 && b < 90) orange += 1;
  }
  return { blue, orange };
}"""


def fill_study(page: Page, name: str, trials: int) -> None:
    form = page.get_by_test_id("study-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Algorithm").select_option("Batch picking")
    form.get_by_label("Search batch_size").check()
    form.get_by_label("Search fill_limit").check()
    expect(page.get_by_test_id("study-space")).to_have_text("Searching batch_size, fill_limit.")
    form.get_by_label("Trials").fill(str(trials))
    form.get_by_label("Parallel").fill("2")


def test_a_study_from_the_form_pinned_as_baseline(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "studies")
    expect(page.get_by_role("heading", name="Studies (", exact=False)).to_be_visible()
    fill_study(page, "less-travel", 4)
    form = page.get_by_test_id("study-form")
    create = form.get_by_role("button", name="Create study")
    expect(create).to_be_disabled()  # no objective yet
    form.get_by_label("travel_distance").check()
    create.click()

    detail = page.get_by_test_id("study-detail")
    expect(detail.get_by_role("heading", name="less-travel")).to_be_visible()
    assert re.search(r"#/sessions/[^/]+/studies/[^/]+$", page.url), page.url
    status = detail.get_by_test_id("study-status").locator("[data-status]")
    expect(status).to_have_text("complete", timeout=120_000)
    expect(detail.get_by_test_id("study-counts")).to_have_text("4 of 4 trials ended, 4 complete")
    expect(page.locator("tr[data-study='less-travel'] [data-status]")).to_have_text("complete")
    expect(detail).to_contain_text("minimise travel_distance")

    trials = page.get_by_role("table", name="Trials")
    expect(trials.locator("tbody tr")).to_have_count(4)
    expect(trials.locator("tbody td[data-column=travel_distance]")).to_have_count(4)

    history = page.get_by_test_id("study-history").locator("canvas")
    expect(history).to_have_attribute("data-shown", "4")
    expect(history).to_have_attribute(
        "aria-label", re.compile(r"^travel_distance of 4 complete trials, best so far ")
    )
    selector = "[data-testid=study-history] canvas"
    page.wait_for_function(
        f"() => {{ const c = ({CHART_PIXELS})(document.querySelector('{selector}'));"
        " return c.blue > 30 && c.orange > 30; }"
    )
    assert history.evaluate(DRAWN_PIXELS) > 1000
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    detail.evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, "studies-history")

    # The best trial: the lowest travel among the trials, pinned as the baseline.
    study_id = page.url.rsplit("/", 1)[1]
    body = httpx.get(f"{server.base}{API}/studies/{study_id}").json()
    best = body["best"]
    cells = trials.locator("tbody td[data-column=travel_distance]")
    values = [float(v) for v in cells.evaluate_all("(tds) => tds.map((td) => td.dataset.value)")]
    assert best is not None and len(values) == 4
    assert best["values"] == [min(values)]
    best_row = trials.locator(f"tbody tr[data-trial='{best['number']}']")
    expect(best_row).to_have_attribute("data-scenario", best["scenario_id"])
    best_box = page.get_by_test_id("study-best")
    expect(best_box).to_contain_text(f"trial #{best['number']}")
    best_box.get_by_role("button", name=re.compile("^Pin the best as the baseline")).click()
    expect(best_box.get_by_test_id("pinned")).to_have_text("baseline")
    pinned = httpx.get(f"{server.base}{API}/baseline").json()
    assert pinned["scenario_id"] == best["scenario_id"]
    assert pinned["tag"] == f"less-travel-{best['number']}"

    # A trial's number opens its scenario; the scenarios list marks the baseline.
    best_row.get_by_role("link").click()
    expect(page.get_by_test_id("scenario-detail")).to_be_visible()
    assert page.url.endswith(f"/scenarios/{best['scenario_id']}")
    listed = page.get_by_role("link", name=pinned["tag"], exact=True).locator("xpath=..")
    expect(listed.locator(".badge")).to_have_text("baseline")


def test_two_objectives_draw_the_pareto_front(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "studies")
    fill_study(page, "travel-vs-throughput", 6)
    form = page.get_by_test_id("study-form")
    form.get_by_label("travel_distance").check()
    form.get_by_label("throughput").check()
    form.get_by_label("Constraint").select_option("unassigned_skus")
    # Empty, the limit is the KPI's threshold; here a generous one keeps every trial feasible.
    expect(form.get_by_label("Limit", exact=True)).to_have_attribute("placeholder", "0")
    form.get_by_label("Limit", exact=True).fill("100000")
    form.get_by_label("Sampler").select_option("nsga2")
    form.get_by_role("button", name="Create study").click()

    detail = page.get_by_test_id("study-detail")
    status = detail.get_by_test_id("study-status").locator("[data-status]")
    expect(status).to_have_text("complete", timeout=120_000)
    expect(detail).to_contain_text("minimise travel_distance and maximise throughput")
    expect(detail).to_contain_text("unassigned_skus ≤ 100000")
    study_id = page.url.rsplit("/", 1)[1]
    body = httpx.get(f"{server.base}{API}/studies/{study_id}").json()
    front = body["pareto"]
    assert len(front) >= 1
    # The Pareto set's table lists the server's set, each trial pinnable.
    pareto = page.get_by_role("table", name="Pareto set")
    expect(pareto.locator("tbody tr")).to_have_count(len(front))
    canvas = page.get_by_test_id("study-pareto").locator("canvas")
    expect(canvas).to_have_attribute("data-front", str(len(front)))
    complete = body["counts"]["complete"]
    expect(canvas).to_have_attribute("data-shown", str(complete))
    selector = "[data-testid=study-pareto] canvas"
    page.wait_for_function(
        f"() => ({CHART_PIXELS})(document.querySelector('{selector}')).orange > 30"
    )
    page.get_by_test_id("study-pareto").evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, "studies-pareto")

    # Any trial of the Pareto set can be pinned as the baseline.
    first = front[0]
    row = pareto.locator(f"tbody tr[data-trial='{first['number']}']")
    row.get_by_role("button", name=f"Pin (trial {first['number']})").click()
    expect(row.get_by_test_id("pinned")).to_have_text("baseline")
    pinned = httpx.get(f"{server.base}{API}/baseline").json()
    assert pinned["scenario_id"] == first["scenario_id"]


def test_the_server_refusal_shows_at_the_form(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "studies")
    fill_study(page, "backwards", 3)
    page.locator("#exp-param-batch_size-low").fill("9")
    page.locator("#exp-param-batch_size-high").fill("2")
    form = page.get_by_test_id("study-form")
    form.get_by_label("travel_distance").check()
    form.get_by_role("button", name="Create study").click()
    expect(page.get_by_test_id("study-form-error")).to_contain_text(
        "400: space 'batch_size': min 9 is greater than max 2"
    )
    expect(page.locator("tr[data-study='backwards']")).to_have_count(0)


def test_stop_a_running_study(page: Page, server: ServerProcess) -> None:
    """A study made by another client shows running (read again while it runs), and
    Stop ends it: the trial in flight is cancelled and no more are asked."""
    body = {
        "name": "long-search",
        "base": {"algo_name": "Slow", "dataset_key": "Master data"},
        "space": [{"name": "duration", "min": 20, "max": 30}],
        "objectives": [{"kpi": "travel_distance"}],
        "n_trials": 50,
    }
    created = httpx.post(f"{server.base}{API}/studies", json=body)
    assert created.status_code == 201, created.text
    open_app(page, server, f"studies/{created.json()['id']}")
    detail = page.get_by_test_id("study-detail")
    status = detail.get_by_test_id("study-status").locator("[data-status]")
    expect(status).to_have_text("running")
    expect(detail.get_by_test_id("study-counts")).to_contain_text("1 running")
    detail.get_by_role("button", name="Stop").click()
    expect(status).to_have_text("stopped", timeout=60_000)
    expect(detail.get_by_role("button", name="Stop")).to_be_disabled()
    expect(page.locator("tr[data-study='long-search'] [data-status]")).to_have_text("stopped")
    counts = httpx.get(f"{server.base}{API}/studies/{created.json()['id']}").json()["counts"]
    assert counts["running"] == 0 and counts["total"] < 50
