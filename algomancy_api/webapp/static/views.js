// Result views: the charts a domain declares for its results (`ResultView`), drawn
// from the Chart.js configuration the server builds (`GET …/result/views/{view}`).
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, seg } from "./api.js";
import { Notice, formatNumber } from "./ui.js";

const viewCache = new Map();

/** The views an algorithm declares (asked once per page load and algorithm). */
export function algorithmViews(base, algorithm) {
  const key = `${base}|${algorithm}`;
  if (!viewCache.has(key)) {
    const asked = api.get(`${base}/algorithms/${seg(algorithm)}/views`).then((b) => b.views || []);
    asked.catch(() => viewCache.delete(key));
    viewCache.set(key, asked);
  }
  return viewCache.get(key);
}

/** The tables a scenario's result holds (its `result.tables` summary). */
export function resultTables(scenario) {
  const tables = scenario?.result?.tables;
  return tables && typeof tables === "object" ? Object.keys(tables) : [];
}

/** Distinct values of `key` in `points`. */
const distinct = (points, key) => new Set(points.map((p) => p[key])).size || 1;

/** The server's configuration, plus what JSON cannot carry: tooltips, heat map cells sized to the chart. */
function chartOf(answer) {
  const config = structuredClone(answer.chart);
  const { view } = answer;
  if (view.kind === "heatmap") {
    const nx = distinct(answer.points, "x");
    const ny = distinct(answer.points, "y");
    const dataset = config.data.datasets[0];
    const cell = (ctx) => {
      const area = ctx.chart.chartArea;
      if (!area) return dataset.pointRadius;
      return Math.max(2, Math.min(area.width / nx, area.height / ny) / 2 - 1);
    };
    dataset.pointRadius = cell;
    dataset.pointHoverRadius = cell;
    config.options.plugins.tooltip = {
      callbacks: {
        label: (item) => `${view.encoding.x} ${item.raw.x}, ${view.encoding.y} ${item.raw.y}: ${formatNumber(item.raw.v)} ${view.unit}`.trim(),
      },
    };
  }
  return config;
}

function HeatScale({ scale }) {
  const bar = useRef(null);
  useEffect(() => {
    // A style set from script: the page's policy allows no inline styles.
    if (bar.current) bar.current.style.backgroundImage = `linear-gradient(to right, ${scale.colours.join(", ")})`;
  }, [scale]);
  return html`<div class="heat-scale small" aria-hidden="true">
    <span>${formatNumber(scale.min)}</span><span class="heat-bar" ref=${bar}></span><span>${formatNumber(scale.max)} ${scale.unit}</span>
  </div>`;
}

/** One view's answer drawn on a canvas. */
export function ViewChart({ answer, caption }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = new window.Chart(canvas.current, chartOf(answer));
    return () => chart.destroy();
  }, [answer]);
  const { view } = answer;
  const summary = `${view.title}: ${answer.points.length} points`;
  return html`<figure class="chart-box view-box" data-view=${view.name} data-points=${answer.points.length}>
    <figcaption><strong>${caption || view.title}</strong>${view.description && html` <span class="small muted">${view.description}</span>`}</figcaption>
    <div class=${view.kind === "heatmap" ? "view-canvas heat" : "view-canvas"}>
      <canvas ref=${canvas} role="img" aria-label=${summary}></canvas>
    </div>
    ${answer.chart.scale && html`<${HeatScale} scale=${answer.chart.scale} />`}
    ${answer.truncated && html`<p class="small muted">Only the first ${answer.points.length} points are drawn.</p>`}
  </figure>`;
}

/** Ask for one view of one scenario; `{answer, error}`. */
export function useViewAnswer(base, scenarioId, viewName) {
  const [state, setState] = useState({ answer: null, error: null });
  useEffect(() => {
    setState({ answer: null, error: null });
    if (!scenarioId || !viewName) return undefined;
    let live = true;
    api.get(`${base}/scenarios/${seg(scenarioId)}/result/views/${seg(viewName)}`).then(
      (answer) => live && setState({ answer, error: null }),
      (e) => live && setState({ answer: null, error: e.message })
    );
    return () => {
      live = false;
    };
  }, [base, scenarioId, viewName]);
  return state;
}

function OneView({ base, scenario, view }) {
  const { answer, error } = useViewAnswer(base, scenario.id, view.name);
  if (error) return html`<${Notice} kind="error">${error}<//>`;
  if (!answer) return html`<p class="muted small">Drawing ${view.title}…</p>`;
  return html`<${ViewChart} answer=${answer} />`;
}

/** The scenario page's views: those of its algorithm whose table the result holds. */
export function ResultViews({ base, scenario }) {
  const [views, setViews] = useState([]);
  const [current, setCurrent] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    const tables = resultTables(scenario);
    algorithmViews(base, scenario.algorithm.name).then(
      (all) => {
        if (!live) return;
        const shown = all.filter((v) => tables.includes(v.table));
        setViews(shown);
        setCurrent((old) => (shown.some((v) => v.name === old) ? old : shown[0]?.name ?? null));
      },
      (e) => live && setError(e.message)
    );
    return () => {
      live = false;
    };
  }, [base, scenario.id, scenario.algorithm.name, scenario.finished_at]);
  if (error) return html`<${Notice} kind="error">${error}<//>`;
  if (!views.length) return null;
  const view = views.find((v) => v.name === current) || views[0];
  return html`<section aria-labelledby="views-title" data-testid="result-views">
    <h3 id="views-title">Views</h3>
    ${views.length > 1 &&
    html`<div class="row small">
      <label for="view-pick">View</label>
      <select id="view-pick" value=${view.name} onChange=${(e) => setCurrent(e.target.value)}>
        ${views.map((v) => html`<option value=${v.name}>${v.title}</option>`)}
      </select>
    </div>`}
    <${OneView} key=${view.name} base=${base} scenario=${scenario} view=${view} />
  </section>`;
}

/** The compare page's views: pick one view; it is drawn for each chosen scenario that has it. */
export function CompareViews({ base, scenarios }) {
  const [byAlgorithm, setByAlgorithm] = useState({});
  const [current, setCurrent] = useState("");
  const algorithms = [...new Set(scenarios.map((s) => s.algorithm.name))];
  useEffect(() => {
    let live = true;
    Promise.all(algorithms.map((a) => algorithmViews(base, a).then((v) => [a, v], () => [a, []]))).then(
      (pairs) => live && setByAlgorithm(Object.fromEntries(pairs))
    );
    return () => {
      live = false;
    };
  }, [base, algorithms.join("\n")]);
  const options = [];
  for (const s of scenarios) {
    for (const v of byAlgorithm[s.algorithm.name] || []) {
      if (resultTables(s).includes(v.table) && !options.some((o) => o.name === v.name)) options.push(v);
    }
  }
  if (!options.length) return null;
  const chosen = options.find((o) => o.name === current);
  const having = chosen
    ? scenarios.filter((s) => (byAlgorithm[s.algorithm.name] || []).some((v) => v.name === chosen.name) && resultTables(s).includes(chosen.table))
    : [];
  return html`<section class="panel" aria-labelledby="compare-views-title" data-testid="compare-views">
    <h2 id="compare-views-title">Result views</h2>
    <div class="field">
      <label for="compare-view">View</label>
      <select id="compare-view" value=${current} onChange=${(e) => setCurrent(e.target.value)}>
        <option value="">(none)</option>
        ${options.map((v) => html`<option value=${v.name}>${v.title}</option>`)}
      </select>
    </div>
    ${chosen &&
    html`<div class="chart-grid">${having.map(
      (s) => html`<${CompareOne} key=${s.id + chosen.name} base=${base} scenario=${s} view=${chosen} />`
    )}</div>`}
  </section>`;
}

function CompareOne({ base, scenario, view }) {
  const { answer, error } = useViewAnswer(base, scenario.id, view.name);
  if (error) return html`<${Notice} kind="error">${scenario.tag}: ${error}<//>`;
  if (!answer) return html`<p class="muted small">Drawing ${view.title} of ${scenario.tag}…</p>`;
  return html`<${ViewChart} answer=${answer} caption=${`${scenario.tag}: ${view.title}`} />`;
}
