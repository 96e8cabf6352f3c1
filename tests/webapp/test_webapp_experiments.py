"""The Experiments page in Chromium against a real server, offline: create a
one-at-a-time experiment from the form, follow it to the end, sort its points, see
its tornado chart and open a point's scenario; the point count and the server's
refusals at the form; 10,000 points stay paged and the charts sampled."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.polling import wait_for
from tests.server import ServerProcess
from tests.webapp.experiments_domain import POINTS

from .conftest import screenshot
from .test_webapp_workflow import API, open_app

pytestmark = pytest.mark.slow

#: The tornado's canvas: how many of its pixels are drawn (anything not transparent).
DRAWN_PIXELS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn += 1;
  return drawn;
}"""
#: Pixels of the tornado's bar colours (blue low end, orange high end).
BAR_PIXELS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let bars = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 150 && ((b > 180 && r < 110) || (r > 200 && g < 150 && b < 90))) bars += 1;
  }
  return bars;
}"""


def column_values(page: Page, column: str) -> list[float]:
    cells = page.get_by_role("table", name="Points").locator(f"tbody td[data-column={column}]")
    return [float(v) for v in cells.evaluate_all("(tds) => tds.map((td) => td.dataset.value)")]


def test_an_oat_experiment_from_the_form(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "experiments")
    expect(page.get_by_role("heading", name="Experiments (", exact=False)).to_be_visible()
    form = page.get_by_test_id("experiment-form")
    form.get_by_label("Name").fill("speed-oat")
    form.get_by_label("Algorithm").select_option("Random slotting")
    form.get_by_label("Vary travel_speed_m_s").check()
    form.get_by_label("Vary seed").check()
    page.locator("#exp-param-seed-low").fill("0")
    page.locator("#exp-param-seed-high").fill("10")
    expect(form.get_by_label("Kind")).to_have_value("oat")
    # 1 base point + 2 ends for each of the 2 axes, counted before it is sent.
    expect(page.get_by_test_id("point-count")).to_have_text("5 points (cap 1000)")
    form.get_by_role("button", name="Create experiment").click()

    detail = page.get_by_test_id("experiment-detail")
    expect(detail.get_by_role("heading", name="speed-oat")).to_be_visible()
    assert re.search(r"#/sessions/[^/]+/experiments/[0-9a-f-]{36}$", page.url), page.url
    status = detail.get_by_test_id("experiment-status").locator("[data-status]")
    expect(status).to_have_text("complete", timeout=90_000)
    expect(detail.get_by_test_id("experiment-counts")).to_have_text("5 of 5 complete")
    # The list beside it shows the end too.
    listed = page.locator("tr[data-experiment='speed-oat']")
    expect(listed.locator("[data-status]")).to_have_text("complete")

    points = page.get_by_role("table", name="Points")
    expect(points.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("points-range")).to_have_text("Rows 1\u20135 of 5")
    # Throughput: higher is better, so the first click sorts best first.
    header = points.locator("th[data-column=throughput]")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    values = column_values(page, "throughput")
    assert len(values) == 5 and values == sorted(values, reverse=True)
    assert values[0] > values[-1]  # the speed axis moves it
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert column_values(page, "throughput") == sorted(values)
    # By a parameter too.
    points.locator("th[data-column=travel_speed_m_s]").get_by_role("button").click()
    speeds = column_values(page, "travel_speed_m_s")
    assert speeds == sorted(speeds) and speeds[0] == 0.1 and speeds[-1] == 5.0

    tornado = page.get_by_test_id("sensitivity").locator("canvas")
    expect(tornado).to_have_attribute("data-bars", "2")
    expect(tornado).to_have_attribute(
        "aria-label", re.compile(r"^Sensitivity of throughput: travel_speed_m_s swing")
    )
    page.wait_for_function(
        f"() => ({BAR_PIXELS})(document.querySelector('[data-testid=sensitivity] canvas')) > 200"
    )
    assert tornado.evaluate(DRAWN_PIXELS) > 1000
    screenshot(page, "experiments-oat")
    page.locator("#scatter-x").select_option("travel_speed_m_s")
    expect(page.locator("section[aria-labelledby=scatter-title] canvas")).to_have_attribute(
        "aria-label", "throughput against travel_speed_m_s: 5 points"
    )
    page.get_by_test_id("sensitivity").evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, "experiments-charts")
    parallel = page.locator("section[aria-labelledby=parallel-title]")
    parallel.evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, "experiments-parallel")

    # A point's number opens its scenario.
    first = points.locator("tbody tr").first
    scenario_id = first.get_attribute("data-scenario")
    assert scenario_id
    first.get_by_role("link").click()
    expect(page.get_by_test_id("scenario-detail")).to_be_visible()
    assert page.url.endswith(f"/scenarios/{scenario_id}")
    expect(page.get_by_test_id("scenario-detail").locator("[data-status]").first).to_have_text(
        "complete"
    )


def test_the_form_counts_points_and_shows_the_servers_refusal(
    page: Page, server: ServerProcess
) -> None:
    body = {
        "name": "taken",
        "base": {"algo_name": "Random slotting", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "seed", "values": [3]}]},
    }
    assert httpx.post(f"{server.base}{API}/experiments", json=body).status_code == 201
    open_app(page, server, "experiments")
    form = page.get_by_test_id("experiment-form")
    count = page.get_by_test_id("point-count")
    create = form.get_by_role("button", name="Create experiment")
    form.get_by_label("Name").fill("taken")
    form.get_by_label("Algorithm").select_option("Random slotting")
    expect(count).to_have_text("Points: choose at least one parameter to vary")
    expect(create).to_be_disabled()
    form.get_by_label("Kind").select_option("grid")
    form.get_by_label("Vary seed").check()
    # Every whole seed from the descriptor's min to max: far over the cap.
    expect(count).to_have_text(re.compile(r"^2147483648 points \(cap 1000\): more than the cap"))
    expect(create).to_be_disabled()
    page.locator("#exp-param-seed-high").fill("3")
    expect(count).to_have_text("4 points (cap 1000)")
    form.get_by_label("Vary travel_speed_m_s").check()
    expect(count).to_have_text("Points: a grid needs values for travel_speed_m_s (a float range)")
    page.locator("#exp-param-travel_speed_m_s-values").fill("0.5, 1, 2")
    expect(count).to_have_text("12 points (cap 1000)")
    form.get_by_label("Kind").select_option("lhs")
    form.get_by_label("Points (n)").fill("7")
    expect(count).to_have_text("7 points (cap 1000)")
    form.get_by_label("Kind").select_option("grid")
    # The name is taken: the server's 409 and its words, next to the form.
    create.click()
    error = page.get_by_test_id("experiment-form-error")
    expect(error).to_have_text("409: an experiment named 'taken' exists in this session")
    create.scroll_into_view_if_needed()
    screenshot(page, "experiments-form-error")
    listed = httpx.get(f"{server.base}{API}/experiments").json()
    assert [x["name"] for x in listed].count("taken") == 1


def test_the_list_follows_experiments_made_elsewhere(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "experiments")
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_role("heading", name="Experiments (", exact=False)).to_be_visible()
    body = {
        "name": "elsewhere",
        "base": {"algo_name": "Random slotting", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "seed", "values": [5, 6]}]},
    }
    assert httpx.post(f"{server.base}{API}/experiments", json=body).status_code == 201
    row = page.locator("tr[data-experiment='elsewhere']")
    expect(row).to_have_count(1)
    expect(row.locator("[data-status]")).to_have_text("complete", timeout=60_000)
    expect(row.get_by_test_id("counts")).to_have_text("2 of 2 complete")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


BIG = 10_000


def big_rows() -> list[dict[str, object]]:
    return [
        {
            "point": i,
            "scenario_id": f"s-{i}",
            "status": "complete",
            "speed": (i % 100) / 10,
            "crews": i % 7,
            "cost": float((i * 7919) % 10007),
            "throughput": float(i % 1000),
        }
        for i in range(1, BIG + 1)
    ]


def test_ten_thousand_points_stay_paged_and_sampled(page: Page, server: ServerProcess) -> None:
    rows = big_rows()
    fields = [
        {"key": "point", "label": "point", "type": "integer"},
        {"key": "scenario_id", "label": "scenario_id", "type": "string"},
        {"key": "status", "label": "status", "type": "string"},
        {"key": "speed", "label": "speed", "type": "number"},
        {"key": "crews", "label": "crews", "type": "integer"},
        {"key": "cost", "label": "cost", "type": "number"},
        {"key": "throughput", "label": "throughput", "type": "number"},
    ]
    summary = {
        "id": "big",
        "name": "big",
        "created_at": "2026-01-01T00:00:00+00:00",
        "status": "complete",
        "counts": {
            "planned": BIG,
            "created": BIG,
            "reused": 0,
            "queued": 0,
            "processing": 0,
            "complete": BIG,
            "failed": 0,
            "missing": 0,
        },
        "base": {"algo_name": "Random slotting", "dataset_key": "Master data"},
        "design": {
            "kind": "lhs",
            "n": BIG,
            "seed": 1,
            "axes": [{"name": "speed"}, {"name": "crews"}],
        },
        "axes": ["speed", "crews"],
        "scenario_ids": [],
    }
    pages: list[tuple[int, int]] = []

    def frame(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        pages.append((offset, limit))
        body = {
            "status": "ready",
            "columns": [f["key"] for f in fields],
            "rows": rows[offset : offset + limit],
            "fields": fields,
            "source": {
                "kind": "experiment",
                "id": "big",
                "context": {"offset": offset, "limit": limit, "total_rows": BIG},
            },
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(re.compile(r".*/experiments/big/frame\?.*"), frame)
    page.route(
        re.compile(r".*/sessions/[^/]+/experiments$"),
        lambda r: r.fulfill(
            status=200, content_type="application/json", body=json.dumps([summary])
        ),
    )
    page.route(
        re.compile(r".*/experiments/big$"),
        lambda r: r.fulfill(status=200, content_type="application/json", body=json.dumps(summary)),
    )
    open_app(page, server, "experiments/big")
    range_ = page.get_by_test_id("points-range")
    expect(range_).to_have_text("Rows 1\u2013100 of 10000")
    table = page.get_by_role("table", name="Points")
    expect(table.locator("tbody tr")).to_have_count(100)
    assert len(pages) >= 2 and all(limit < BIG for _, limit in pages)  # read in pages
    table.locator("th[data-column=cost]").get_by_role("button").click()
    expect(table.locator("tbody tr").first.locator("td[data-column=cost]")).to_have_attribute(
        "data-value", str(min(r["cost"] for r in rows)).removesuffix(".0")
    )
    page.get_by_role("button", name="Next").click()
    expect(range_).to_have_text("Rows 101\u2013200 of 10000")
    expect(table.locator("tbody tr")).to_have_count(100)
    scatter = page.locator("section[aria-labelledby=scatter-title] canvas")
    expect(scatter).to_have_attribute("data-shown", "2000")
    expect(page.get_by_test_id("scatter-note")).to_have_text(
        "An even sample: 2000 of 10000 complete points."
    )
    expect(page.locator("section[aria-labelledby=parallel-title] canvas")).to_have_attribute(
        "data-shown", "200"
    )
    # A random or LHS design has no tornado.
    expect(page.get_by_test_id("sensitivity")).to_have_count(0)
    screenshot(page, "experiments-10000", full_page=True)


@pytest.fixture
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with room for 10,000 points and a no-op algorithm with two knobs."""
    cwd = tmp_path_factory.mktemp("webapp-big")
    config = "tests.webapp.experiments_domain:settings"
    with ServerProcess(["--config", config, "--in-memory"], cwd) as process:
        yield process


def test_a_real_ten_thousand_point_experiment(
    big_server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    """Made and run by the server (a no-op algorithm, in memory): the page draws the
    first page of the table within the default timeout, sorts by a KPI, and samples
    the charts. The server comes before the page, so the page closes first (fixtures
    end in reverse): with the page's event stream still open, the server's graceful
    stop waited for it until `ServerProcess.stop` killed it, 20 s later."""
    body = {
        "name": "big",
        "base": {"algo_name": "No-op knobs", "dataset_key": "Master data"},
        "design": {
            "kind": "random",
            "n": POINTS,
            "seed": 7,
            "axes": [{"name": "speed"}, {"name": "crews"}],
        },
    }
    created = httpx.post(f"{big_server.base}{API}/experiments", json=body, timeout=600)
    assert created.status_code == 201, created.text
    experiment_id = created.json()["id"]
    wait_for(
        lambda: httpx.get(f"{big_server.base}{API}/experiments/{experiment_id}").json(),
        lambda x: x["status"] == "complete",
        timeout=600,
        what="the 10,000 points to complete",
    )
    frame = httpx.get(
        f"{big_server.base}{API}/experiments/{experiment_id}/frame", params={"limit": POINTS}
    ).json()
    distances = [r["travel_distance"] for r in frame["rows"]]
    assert len(distances) == POINTS and None not in distances

    open_app(page, big_server, f"experiments/{experiment_id}")
    range_ = page.get_by_test_id("points-range")
    expect(range_).to_have_text(f"Rows 1\u2013100 of {POINTS}")
    table = page.get_by_role("table", name="Points")
    expect(table.locator("tbody tr")).to_have_count(100)
    expect(page.get_by_test_id("experiment-counts")).to_have_text(f"{POINTS} of {POINTS} complete")
    # Travel distance: lower is better, so the first click puts the least first.
    header = table.locator("th[data-column=travel_distance]")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = table.locator("tbody tr").first.locator("td[data-column=travel_distance]")
    expect(first).to_have_attribute("data-value", re.compile(r"^\d"))
    assert float(first.get_attribute("data-value") or "nan") == pytest.approx(min(distances))
    values = column_values(page, "travel_distance")
    assert len(values) == 100 and values == sorted(values)
    page.get_by_role("button", name="Next").click()
    expect(range_).to_have_text(f"Rows 101\u2013200 of {POINTS}")
    assert column_values(page, "travel_distance")[0] >= values[-1]
    scatter = page.locator("section[aria-labelledby=scatter-title] canvas")
    expect(scatter).to_have_attribute("data-shown", "2000")
    expect(page.get_by_test_id("scatter-note")).to_have_text(
        f"An even sample: 2000 of {POINTS} complete points."
    )
    expect(page.locator("section[aria-labelledby=parallel-title] canvas")).to_have_attribute(
        "data-shown", "200"
    )
    page.screenshot(path=str(tmp_path / "experiment-10000.png"), full_page=True)


def test_the_dataset_as_an_axis_from_the_form(page: Page, server: ServerProcess) -> None:
    derived = httpx.post(
        f"{server.base}{API}/data/Master data/derive", json={"new_key": "Peak copy"}
    )
    assert derived.status_code == 201, derived.text
    open_app(page, server, "experiments")
    form = page.get_by_test_id("experiment-form")
    count = page.get_by_test_id("point-count")
    form.get_by_label("Name").fill("by-dataset")
    form.get_by_label("Algorithm").select_option("Random slotting")
    form.get_by_label("Vary the dataset").check()
    datasets = form.get_by_label("Datasets to run on")
    # The dataset chosen above is ticked first; pick both.
    expect(datasets).to_have_values(["Master data"])
    datasets.select_option(["Master data", "Peak copy"])
    expect(count).to_have_text(
        "Points: one at a time cannot vary the dataset; choose grid, random or LHS"
    )
    form.get_by_label("Kind").select_option("grid")
    expect(count).to_have_text("2 points (cap 1000)")
    form.get_by_label("Vary seed").check()
    page.locator("#exp-param-seed-values").fill("1, 2, 3")
    expect(count).to_have_text("6 points (cap 1000)")
    form.get_by_role("button", name="Create experiment").click()
    detail = page.get_by_test_id("experiment-detail")
    expect(detail.get_by_role("heading", name="by-dataset")).to_be_visible()
    expect(detail).to_contain_text("dataset (Master data, Peak copy)")
    points = page.get_by_role("table", name="Points")
    expect(points.locator("tbody tr")).to_have_count(6)
    cells = points.locator("tbody td[data-column=dataset]")
    expect(cells).to_have_count(6)
    assert set(cells.all_inner_texts()) == {"Master data", "Peak copy"}
