// Result views: the charts a domain declares for its results (`ResultView`), drawn
// from the Chart.js configuration the server builds (`GET …/result/views/{view}`).
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { ROOT, api, seg } from "./api.js";
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

const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

/** The colour `fraction` (0..1) of the way along `colours` (as the server mixes them). */
export function heatColour(colours, fraction) {
  const f = Math.min(1, Math.max(0, fraction));
  const position = f * (colours.length - 1);
  const index = Math.min(Math.floor(position), colours.length - 2);
  const part = position - index;
  const [low, high] = [hex(colours[index]), hex(colours[index + 1])];
  return "#" + low.map((a, i) => Math.round(a + (high[i] - a) * part).toString(16).padStart(2, "0")).join("");
}

/** A heat map's scale stretched over `range` ({min, max}), e.g. shared by the charts of a comparison. */
function rescaled(answer, range) {
  if (!range || !answer.chart.scale) return answer.chart.scale;
  return { ...answer.chart.scale, min: range.min, max: range.max };
}

/** The server's configuration, plus what JSON cannot carry: tooltips, heat map cells sized to the chart. */
function chartOf(answer, range) {
  const config = structuredClone(answer.chart);
  const { view } = answer;
  if (view.kind === "heatmap") {
    const nx = distinct(answer.points, "x");
    const ny = distinct(answer.points, "y");
    const dataset = config.data.datasets[0];
    if (range) {
      const { colours } = answer.chart.scale;
      const span = range.max - range.min || 1;
      const painted = dataset.data.map((p) => (typeof p.v === "number" ? heatColour(colours, (p.v - range.min) / span) : "#e5e7eb"));
      dataset.backgroundColor = painted;
      dataset.borderColor = painted;
    }
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

/** One view's answer drawn on a canvas; a heat map on `range` when given. */
export function ViewChart({ answer, caption, range }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = new window.Chart(canvas.current, chartOf(answer, range));
    return () => chart.destroy();
  }, [answer, range?.min, range?.max]);
  const scale = rescaled(answer, range);
  const { view } = answer;
  const summary = `${view.title}: ${answer.points.length} points`;
  return html`<figure class="chart-box view-box" data-view=${view.name} data-points=${answer.points.length}>
    <figcaption><strong>${caption || view.title}</strong>${view.description && html` <span class="small muted">${view.description}</span>`}</figcaption>
    <div class=${view.kind === "heatmap" ? "view-canvas heat" : "view-canvas"}>
      <canvas ref=${canvas} role="img" aria-label=${summary}></canvas>
    </div>
    ${scale && html`<${HeatScale} scale=${scale} />`}
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

/**
 * A `module` view: the domain's ES module (served at `view.module_url`) draws into
 * an element. Its default export is called as `draw(element, {scenario, view, frame})`,
 * where `frame(offset, limit)` reads the view's result table (a tabular frame); it
 * may return a function that undoes the drawing.
 */
export function ModuleView({ base, scenario, view, caption }) {
  const box = useRef(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    let undo = null;
    const frame = (offset = 0, limit = 1000) =>
      api.get(`${base}/scenarios/${seg(scenario.id)}/result/tables/${seg(view.table)}/frame?offset=${offset}&limit=${limit}`);
    import(ROOT + view.module_url)
      .then(async (mod) => {
        if (!live) return;
        const result = await mod.default(box.current, { scenario, view, frame });
        if (typeof result === "function") {
          if (live) undo = result;
          else result();
        }
      })
      .catch((e) => live && setError(`${view.title}: ${e.message}`));
    return () => {
      live = false;
      if (undo) undo();
      if (box.current) box.current.replaceChildren();
    };
  }, [scenario.id, view.name]);
  return html`<figure class="chart-box view-box" data-view=${view.name}>
    <figcaption><strong>${caption || view.title}</strong>${view.description && html` <span class="small muted">${view.description}</span>`}</figcaption>
    <${Notice} kind="error">${error}<//>
    <div class="view-module" ref=${box}></div>
  </figure>`;
}

function OneView({ base, scenario, view }) {
  if (view.kind === "module") return html`<${ModuleView} base=${base} scenario=${scenario} view=${view} />`;
  return html`<${ChartView} base=${base} scenario=${scenario} view=${view} />`;
}

function ChartView({ base, scenario, view }) {
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
    ${chosen && chosen.kind === "module" &&
    html`<div class="chart-grid">${having.map(
      (s) => html`<${ModuleView} key=${s.id + chosen.name} base=${base} scenario=${s} view=${chosen} caption=${`${s.tag}: ${chosen.title}`} />`
    )}</div>`}
    ${chosen && chosen.kind !== "module" && html`<${CompareCharts} key=${chosen.name} base=${base} scenarios=${having} view=${chosen} />`}
  </section>`;
}

/** One view for several scenarios; heat maps share one colour scale, so colours compare. */
function CompareCharts({ base, scenarios, view }) {
  const [answers, setAnswers] = useState({});
  const ids = scenarios.map((s) => s.id).join("\n");
  useEffect(() => {
    let live = true;
    setAnswers({});
    for (const s of scenarios) {
      api.get(`${base}/scenarios/${seg(s.id)}/result/views/${seg(view.name)}`).then(
        (answer) => live && setAnswers((old) => ({ ...old, [s.id]: { answer } })),
        (e) => live && setAnswers((old) => ({ ...old, [s.id]: { error: e.message } }))
      );
    }
    return () => {
      live = false;
    };
  }, [base, ids, view.name]);
  const drawn = scenarios.map((s) => answers[s.id]?.answer).filter(Boolean);
  const scales = drawn.map((a) => a.chart.scale).filter(Boolean);
  const range = scales.length === drawn.length && scales.length > 0
    ? { min: Math.min(...scales.map((x) => x.min)), max: Math.max(...scales.map((x) => x.max)) }
    : null;
  const waiting = view.kind === "heatmap" && drawn.length < scenarios.filter((s) => !answers[s.id]?.error).length;
  return html`<div class="chart-grid">${scenarios.map((s) => {
    const got = answers[s.id];
    if (got?.error) return html`<${Notice} key=${s.id} kind="error">${s.tag}: ${got.error}<//>`;
    if (!got || waiting) return html`<p key=${s.id} class="muted small">Drawing ${view.title} of ${s.tag}…</p>`;
    return html`<${ViewChart} key=${s.id} answer=${got.answer} range=${range} caption=${`${s.tag}: ${view.title}`} />`;
  })}</div>
  ${range && html`<p class="small muted">The heat maps share one colour scale, ${formatNumber(range.min)} to ${formatNumber(range.max)} ${view.unit}.</p>`}`;
}
