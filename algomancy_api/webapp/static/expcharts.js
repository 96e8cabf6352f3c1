// An experiment's charts (Chart.js): a KPI against a parameter, the sensitivity of a
// KPI (a tornado for one-at-a-time designs), and parallel coordinates. Charts of
// many points draw an even sample of them, so that 10,000 points stay quick.
import { html, useEffect, useMemo, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api } from "./api.js";
import { Notice, formatNumber } from "./ui.js";

/** At most this many points in the scatter, lines in the parallel coordinates. */
export const MAX_POINTS = 2000;
export const MAX_LINES = 200;
/** Designs without a sensitivity answer (the server says 409 for them). */
const NO_SENSITIVITY = ["grid", "random", "lhs"];

/** Every k-th row so that at most `max` remain, in order (first and last kept). */
export function decimate(rows, max) {
  if (rows.length <= max) return rows;
  const step = (rows.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => rows[Math.round(i * step)]);
}

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

/**
 * A column's values as numbers: numbers stay, other values (enum choices,
 * booleans) become their index among the column's distinct values.
 */
export function numericColumn(rows, key) {
  if (rows.every((r) => r[key] === null || r[key] === undefined || isNumber(r[key]))) return { at: (r) => (isNumber(r[key]) ? r[key] : null), labels: null };
  const labels = [...new Set(rows.map((r) => r[key]).filter((v) => v !== null && v !== undefined).map(String))].sort();
  return { at: (r) => (r[key] === null || r[key] === undefined ? null : labels.indexOf(String(r[key]))), labels };
}

/** A Chart.js chart on the returned canvas ref, built again when `deps` change. */
export function useChart(build, deps) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = build(canvas.current);
    return () => chart && chart.destroy();
  }, deps);
  return canvas;
}

/**
 * A scatter chart of `datasets` on `el`: `label(point)` says a point in its tooltip,
 * `x` and `y` title the axes, `xTicks` (optional) are the x axis's Chart.js ticks.
 */
export function scatterChart(el, { datasets, label, x, y, xTicks }) {
  return new window.Chart(el, {
    type: "scatter",
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { tooltip: { callbacks: { label: (c) => label(c.raw) } } },
      scales: { x: { title: { display: true, text: x }, ...(xTicks ? { ticks: xTicks } : {}) }, y: { title: { display: true, text: y } } },
    },
  });
}

const unitOf = (kpis, key) => kpis.find((k) => k.name === key)?.unit;
const titled = (kpis, key) => (unitOf(kpis, key) ? `${key} (${unitOf(kpis, key)})` : key);

export function Select({ id, label, value, options, onChange }) {
  return html`<label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>`;
}

/** A KPI against a parameter (or another KPI), one dot per complete point. */
export function ScatterChart({ rows, axes, kpiKeys, kpis }) {
  const [xKey, setX] = useState(axes[0] ?? kpiKeys[0]);
  const [yKey, setY] = useState(kpiKeys[0]);
  const x = [...axes, ...kpiKeys].includes(xKey) ? xKey : axes[0];
  const y = kpiKeys.includes(yKey) ? yKey : kpiKeys[0];
  const { points, all, labels } = useMemo(() => {
    if (!x || !y) return { points: [], all: 0, labels: null };
    const col = numericColumn(rows, x);
    const every = rows.map((r) => ({ x: col.at(r), y: r[y], point: r.point })).filter((p) => p.x !== null && isNumber(p.y));
    return { points: decimate(every, MAX_POINTS), all: every.length, labels: col.labels };
  }, [rows, x, y]);
  const canvas = useChart(
    (el) =>
      new window.Chart(el, {
        type: "scatter",
        data: { datasets: [{ label: y, data: points, backgroundColor: "rgba(37, 99, 235, 0.7)", pointRadius: points.length > 500 ? 2 : 4 }] },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: (c) => `#${c.raw.point}: ${labels ? labels[c.raw.x] : formatNumber(c.raw.x)}, ${formatNumber(c.raw.y)}` } },
          },
          scales: {
            x: { title: { display: true, text: titled(kpis, x) }, ticks: labels ? { stepSize: 1, callback: (v) => labels[v] ?? "" } : {} },
            y: { title: { display: true, text: titled(kpis, y) } },
          },
        },
      }),
    [points, x, y]
  );
  if (!kpiKeys.length) return null;
  return html`<section class="panel" aria-labelledby="scatter-title">
    <h2 id="scatter-title">KPI against parameter</h2>
    <div class="row">
      <${Select} id="scatter-y" label="KPI" value=${y} options=${kpiKeys} onChange=${setY} />
      <${Select} id="scatter-x" label="against" value=${x} options=${[...axes, ...kpiKeys]} onChange=${setX} />
    </div>
    <div class="exp-chart"><canvas ref=${canvas} role="img" data-shown=${points.length}
      aria-label=${`${y} against ${x}: ${points.length} points`}></canvas></div>
    <p class="small muted" data-testid="scatter-note">${all > points.length ? `An even sample: ${points.length} of ${all} complete points.` : `${all} complete points.`}</p>
  </section>`;
}

/**
 * The rows of a sensitivity answer, whatever its shape: a list, a list under
 * `rows`/`parameters`/`sensitivity`/`effects`/`indices`, or `{parameter: {...}}`;
 * each with a `parameter` name.
 */
export function sensitivityRows(body) {
  let list = Array.isArray(body) ? body : null;
  if (!list && body && typeof body === "object") {
    const key = ["rows", "parameters", "sensitivity", "effects", "indices", "results"].find((k) => Array.isArray(body[k]));
    if (key) list = body[key];
    else list = Object.entries(body).filter(([, v]) => v && typeof v === "object" && !Array.isArray(v)).map(([name, v]) => ({ parameter: name, ...v }));
  }
  return (list || [])
    .filter((r) => r && typeof r === "object")
    .map((r) => ({ ...r, parameter: String(r.parameter ?? r.name ?? r.axis ?? "?") }));
}

const VALUE_KEYS = new Set(["parameter", "name", "axis", "base_value", "low_value", "high_value", "base_kpi", "low_kpi", "high_kpi"]);

/** `tornado` (low and high deltas), `bars` over numeric `measures` (other methods' indices), or `none`. */
export function sensitivityShape(rows) {
  if (rows.some((r) => isNumber(r.low_delta) || isNumber(r.high_delta))) return { kind: "tornado", measures: [] };
  const measures = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => !VALUE_KEYS.has(k) && isNumber(r[k]))))];
  return measures.length ? { kind: "bars", measures } : { kind: "none", measures: [] };
}

const fmt = (v) => (isNumber(v) ? formatNumber(v) : v === null || v === undefined ? "–" : String(v));

function sensitivityChart(rows, shape, measure, kpi) {
  const labels = rows.map((r) => (shape.kind === "tornado" ? [r.parameter, `${fmt(r.low_value)} → ${fmt(r.high_value)}`] : r.parameter));
  const common = {
    animation: false,
    maintainAspectRatio: false,
    indexAxis: "y",
    plugins: { legend: { display: shape.kind === "tornado" } },
    scales: { y: { ticks: { autoSkip: false } } },
  };
  if (shape.kind === "tornado") {
    const base = rows.find((r) => isNumber(r.base_kpi))?.base_kpi;
    return {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "low end", data: rows.map((r) => (isNumber(r.low_delta) ? r.low_delta : null)), backgroundColor: "rgba(37, 99, 235, 0.8)" },
          { label: "high end", data: rows.map((r) => (isNumber(r.high_delta) ? r.high_delta : null)), backgroundColor: "rgba(234, 88, 12, 0.75)" },
        ],
      },
      options: {
        ...common,
        datasets: { bar: { grouped: false } },
        scales: { ...common.scales, x: { title: { display: true, text: `change of ${kpi} from the base point${isNumber(base) ? ` (${fmt(base)})` : ""}` } } },
      },
    };
  }
  return {
    type: "bar",
    data: { labels, datasets: [{ label: measure, data: rows.map((r) => (isNumber(r[measure]) ? r[measure] : null)), backgroundColor: "rgba(37, 99, 235, 0.8)" }] },
    options: { ...common, scales: { ...common.scales, x: { title: { display: true, text: `${measure} of ${kpi}` } } } },
  };
}

/** The sensitivity of a KPI to each parameter (`GET …/sensitivity?kpi=`), for designs that have one. */
export function SensitivityChart({ path, kind, kpiKeys, kpis, version }) {
  const [kpi, setKpi] = useState(kpiKeys[0]);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [measure, setMeasure] = useState(null);
  const shown = kpiKeys.includes(kpi) ? kpi : kpiKeys[0];
  const wanted = shown && !NO_SENSITIVITY.includes(kind);
  useEffect(() => {
    if (!wanted) return undefined;
    let live = true;
    api.get(`${path}/sensitivity?kpi=${encodeURIComponent(shown)}`).then(
      (b) => live && (setAnswer(b), setError(null)),
      (e) => live && (setAnswer(null), setError(e.message))
    );
    return () => {
      live = false;
    };
  }, [path, shown, version, wanted]);
  const rows = useMemo(() => sensitivityRows(answer), [answer]);
  const shape = useMemo(() => sensitivityShape(rows), [rows]);
  const m = shape.measures.includes(measure) ? measure : shape.measures[0];
  const box = useRef(null);
  const canvas = useChart((el) => {
    if (shape.kind === "none") return null;
    // Sized through the CSSOM (the page's policy refuses style attributes).
    if (box.current) box.current.style.height = `${Math.max(160, 44 * rows.length + 70)}px`;
    return new window.Chart(el, sensitivityChart(rows, shape, m, shown));
  }, [rows, shape, m, shown]);
  if (!wanted) return null;
  const bars = shape.kind === "tornado" ? rows.filter((r) => isNumber(r.low_delta) || isNumber(r.high_delta)).length : rows.length;
  return html`<section class="panel" aria-labelledby="sensitivity-title" data-testid="sensitivity">
    <h2 id="sensitivity-title">${shape.kind === "tornado" || kind === "oat" ? "Tornado: one parameter at a time" : "Sensitivity"}</h2>
    <div class="row">
      <${Select} id="sensitivity-kpi" label="KPI" value=${shown} options=${kpiKeys} onChange=${setKpi} />
      ${shape.kind === "bars" && shape.measures.length > 1 && html`<${Select} id="sensitivity-measure" label="measure" value=${m} options=${shape.measures} onChange=${setMeasure} />`}
    </div>
    <${Notice} kind="info">${error}<//>
    ${shape.kind === "none" && answer !== null && html`<details><summary>Sensitivity (JSON)</summary><pre class="json">${JSON.stringify(answer, null, 2)}</pre></details>`}
    ${shape.kind !== "none" &&
    html`<div class="exp-chart" ref=${box}><canvas ref=${canvas} role="img" data-bars=${bars}
      aria-label=${`Sensitivity of ${shown}: ${rows.map((r) => `${r.parameter} ${shape.kind === "tornado" ? `swing ${fmt(r.swing)}` : fmt(r[m])}`).join(", ")}`}></canvas></div>`}
    ${shape.kind === "tornado" && html`<p class="small muted">Each bar: the change of ${shown} when one parameter goes to its low or high end, the others at their base values; largest swing first.</p>`}
  </section>`;
}

/** A colour from blue (t = 0) to orange (t = 1). */
function ramp(t, alpha) {
  const hue = 220 - 190 * Math.min(1, Math.max(0, t));
  return `hsla(${hue}, 80%, 45%, ${alpha})`;
}

/** Parallel coordinates: a line per complete point over the parameters and KPIs, each scaled to [0, 1]. */
export function ParallelChart({ rows, axes, kpiKeys, kpis }) {
  const [colourBy, setColourBy] = useState(kpiKeys[0]);
  const by = kpiKeys.includes(colourBy) ? colourBy : kpiKeys[0];
  const dims = [...axes, ...kpiKeys];
  const { lines, labels, all } = useMemo(() => {
    const complete = rows.filter((r) => kpiKeys.some((k) => isNumber(r[k])));
    const cols = dims.map((d) => {
      const col = numericColumn(complete, d);
      const values = complete.map(col.at).filter(isNumber);
      const lo = values.length ? Math.min(...values) : 0;
      const hi = values.length ? Math.max(...values) : 1;
      return { key: d, col, lo, hi };
    });
    const scale = (c, v) => (v === null ? null : c.hi === c.lo ? 0.5 : (v - c.lo) / (c.hi - c.lo));
    const byCol = cols.find((c) => c.key === by);
    const shown = decimate(complete, MAX_LINES);
    const alpha = shown.length <= 50 ? 0.9 : 0.55; // few lines: each stands out
    return {
      all: complete.length,
      labels: cols.map((c) => [c.key, c.col.labels ? c.col.labels.join(" · ") : `${fmt(c.lo)} – ${fmt(c.hi)}`]),
      lines: shown.map((r) => ({
        data: cols.map((c) => scale(c, c.col.at(r))),
        colour: ramp(byCol ? scale(byCol, byCol.col.at(r)) ?? 0 : 0, alpha),
      })),
    };
  }, [rows, axes.join(), kpiKeys.join(), by]);
  const canvas = useChart(
    (el) =>
      new window.Chart(el, {
        type: "line",
        data: {
          labels,
          datasets: lines.map((l) => ({ data: l.data, borderColor: l.colour, borderWidth: lines.length <= 50 ? 2 : 1, pointRadius: 0, fill: false, spanGaps: true })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          events: [],
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
          scales: {
            x: { ticks: { autoSkip: false } },
            y: { min: 0, max: 1, title: { display: true, text: "each axis from its lowest (0) to its highest (1)" } },
          },
        },
      }),
    [lines, labels]
  );
  if (!kpiKeys.length || dims.length < 2) return null;
  return html`<section class="panel" aria-labelledby="parallel-title">
    <h2 id="parallel-title">Parallel coordinates</h2>
    <div class="row">
      <${Select} id="parallel-colour" label="Colour by" value=${by} options=${kpiKeys} onChange=${setColourBy} />
      <span class="small muted">blue: lowest ${by}, orange: highest</span>
    </div>
    <div class="exp-chart"><canvas ref=${canvas} role="img" data-shown=${lines.length}
      aria-label=${`Parallel coordinates of ${lines.length} points over ${dims.join(", ")}`}></canvas></div>
    <p class="small muted">${all > lines.length ? `An even sample: ${lines.length} of ${all} complete points.` : `${all} complete points.`}</p>
  </section>`;
}
