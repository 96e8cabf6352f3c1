"""The Studies page in Chromium against a real server, offline: create a study from
the form, follow it to the end, see its optimisation history drawn, open a trial's
scenario and pin the best as the session's baseline; a two-objective study with a
constraint draws its Pareto front."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

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


#: Listed points of the pruning study, run in order (parallel 1): five quick good
#: descents (many moves a step, each its own), then three slow poor ones (one move a step, half the
#: worse moves taken, 0.5 s a step) whose first reports are far worse than the good
#: ones' at the same step: the median pruner (5 complete trials first) stops them.
GOOD = [
    {"moves_per_step": moves, "worse_acceptance": 0.0, "step_seconds": 0.0}
    for moves in (120, 200, 60, 160, 90)
]
POOR = {"moves_per_step": 1, "worse_acceptance": 0.5, "step_seconds": 0.5}


def test_pruned_trials_show_grey_and_counted(page: Page, server: ServerProcess) -> None:
    body = {
        "name": "pruned-descent",
        "base": {
            "algo_name": "Iterative descent",
            "dataset_key": "Master data",
            "algo_params": {"steps": 30},
        },
        "space": [
            {"name": "moves_per_step", "min": 1, "max": 200},
            {"name": "worse_acceptance"},
            {"name": "step_seconds", "min": 0, "max": 0.5},
        ],
        "objectives": [{"kpi": "travel_distance"}],
        "pruner": "median",
        "n_trials": 8,
        "warm_start": {"points": [*GOOD, POOR, POOR, POOR]},
    }
    created = httpx.post(f"{server.base}{API}/studies", json=body)
    assert created.status_code == 201, created.text
    study_id = created.json()["id"]
    open_app(page, server, f"studies/{study_id}")
    detail = page.get_by_test_id("study-detail")
    status = detail.get_by_test_id("study-status").locator("[data-status]")
    expect(status).to_have_text("complete", timeout=120_000)
    expect(detail.get_by_test_id("study-counts")).to_have_text(
        "8 of 8 trials ended, 5 complete, 3 pruned"
    )
    got = httpx.get(f"{server.base}{API}/studies/{study_id}").json()
    assert got["counts"]["pruned"] == 3 and got["counts"]["complete"] == 5

    # The pruned trials: the last three, each with the grey `pruned` badge.
    trials = page.get_by_role("table", name="Trials")
    expect(trials.locator("tbody tr")).to_have_count(8)
    badges = trials.locator("tbody [data-status=pruned]")
    expect(badges).to_have_count(3)
    numbers = trials.locator("tbody tr:has([data-status=pruned])").evaluate_all(
        "(rows) => rows.map((r) => Number(r.dataset.trial))"
    )
    assert numbers == [5, 6, 7]
    colour = badges.first.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(243, 244, 246)"  # grey, as `stopped`: not a failure's red
    expect(trials.locator("tbody [data-status=complete]")).to_have_count(5)

    # The history draws the five complete trials and the best so far.
    history = page.get_by_test_id("study-history").locator("canvas")
    expect(history).to_have_attribute("data-shown", "5")
    selector = "[data-testid=study-history] canvas"
    page.wait_for_function(
        f"() => {{ const c = ({CHART_PIXELS})(document.querySelector('{selector}'));"
        " return c.blue > 30 && c.orange > 30; }"
    )
    assert page.evaluate(LOW_CONTRAST) == []
    page.screenshot(path="/tmp/studies-pruned.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1150})  # counts, history and trials
    detail.evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, "studies-pruned")


A_FRAME_LATER = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"
READS_DONE = "Number(document.querySelector('[data-testid=study-detail]').dataset.reads)"


def settled(page: Page, reads: list[str]) -> None:
    """Every read of the study asked for is done (two requests each: it, its trials)."""
    page.wait_for_function(f"(n) => {READS_DONE} * 2 >= n", arg=len(reads))


def slow_study(server: ServerProcess, name: str) -> str:
    """A study whose first trial runs 20 s or more: nothing changes meanwhile."""
    body = {
        "name": name,
        "base": {"algo_name": "Slow", "dataset_key": "Master data"},
        "space": [{"name": "duration", "min": 20, "max": 30}],
        "objectives": [{"kpi": "travel_distance"}],
        "n_trials": 50,
    }
    created = httpx.post(f"{server.base}{API}/studies", json=body)
    assert created.status_code == 201, created.text
    study_id: str = created.json()["id"]
    return study_id


def reads_of(page: Page, study_id: str) -> list[str]:
    """The GET requests of the page for the study and its trials, as they are made."""
    reads: list[str] = []
    page.on(
        "request",
        lambda r: r.method == "GET" and f"/studies/{study_id}" in r.url and reads.append(r.url),
    )
    return reads


def test_the_detail_follows_the_stream_not_a_timer(page: Page, server: ServerProcess) -> None:
    """A running study's view reads the study again on the session stream's
    `study.progress`, not on a timer: with the page's clock run two minutes ahead
    nothing is read, and a stop still shows at once (its events)."""
    study_id = slow_study(server, "quiet-search")
    reads = reads_of(page, study_id)
    page.clock.install()
    open_app(page, server, f"studies/{study_id}")
    detail = page.get_by_test_id("study-detail")
    expect(detail.get_by_test_id("study-counts")).to_contain_text("1 running")
    expect(detail.get_by_test_id("study-following")).to_have_attribute("data-following", "stream")

    settled(page, reads)
    before = len(reads)
    for _ in range(5):
        page.clock.run_for(30_000)
        # A frame and a macrotask later, a timer's read would have been asked for.
        page.evaluate(A_FRAME_LATER)
        settled(page, reads)
    # At most one read more: the first trial's study.progress may arrive meanwhile.
    assert len(reads) - before <= 2, reads[before:]
    detail.get_by_role("button", name="Stop").click()
    expect(detail.get_by_test_id("study-status").locator("[data-status]")).to_have_text(
        "stopped", timeout=60_000
    )
    assert len(reads) > before  # read again on the stop's study.progress


def test_the_detail_polls_slowly_while_the_stream_is_down(
    page: Page, server: ServerProcess
) -> None:
    """The stream refused: the view says so and reads the study every 10 s."""
    study_id = slow_study(server, "unheard-search")
    reads = reads_of(page, study_id)
    page.route("**/events*", lambda route: route.abort())
    page.clock.install()
    open_app(page, server, f"studies/{study_id}")
    detail = page.get_by_test_id("study-detail")
    expect(detail.get_by_test_id("study-counts")).to_contain_text("1 running")
    following = detail.get_by_test_id("study-following")
    expect(following).to_have_attribute("data-following", "poll")
    expect(following).to_have_text("Live updates interrupted: read again every 10 s")
    settled(page, reads)
    done = page.evaluate(f"() => {READS_DONE}")
    page.clock.run_for(10_500)
    page.wait_for_function(f"(n) => {READS_DONE} > n", arg=done)
    httpx.post(f"{server.base}{API}/studies/{study_id}/stop")


def test_each_reconnection_of_the_stream_reads_the_study_once(
    page: Page, server: ServerProcess
) -> None:
    """A stream that drops (here: each connection answered with `open`, then closed)
    is followed again; each connection reads the study once, for what it missed."""
    study_id = slow_study(server, "flaky-search")
    connections: list[str] = []

    def open_then_close(route: Route) -> None:
        connections.append(route.request.url)
        data = '{"seq": 1, "kind": "open", "session_id": "main"}'
        route.fulfill(
            status=200,
            headers={"Content-Type": "text/event-stream"},
            body=f"id: 1\nevent: open\ndata: {data}\n\n",
        )

    page.route("**/events*", open_then_close)
    open_app(page, server, f"studies/{study_id}")
    detail = page.get_by_test_id("study-detail")
    expect(detail.get_by_test_id("study-counts")).to_contain_text("1 running")
    page.wait_for_function(f"() => {READS_DONE} >= 4", timeout=60_000)
    assert len(connections) >= 3  # read on each (re)connection, not on a timer
    httpx.post(f"{server.base}{API}/studies/{study_id}/stop")
