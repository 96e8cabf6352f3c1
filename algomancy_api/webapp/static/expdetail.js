// One experiment, live: its counts, a sortable paged table of its points (from the
// frame route), and its charts. Each point opens its scenario.
import { html, useEffect, useMemo, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, readFrame, seg } from "./api.js";
import { Notice, Progress, StatusBadge, formatCell, go, link } from "./ui.js";
import { ParallelChart, ScatterChart, SensitivityChart } from "./expcharts.js";

/** Rows of the points table per page: the table never holds more. */
export const PAGE = 100;
/** The frame is read again at most this often while points finish (ms). */
const FRAME_MS = 1000;
const FIXED = ["point", "scenario_id", "status"];

/** Compare two cells: numbers as numbers, empty cells last whatever the direction. */
function compareCells(a, b, dir) {
  const empty = (v) => v === null || v === undefined || v === "";
  if (empty(a) || empty(b)) return empty(a) === empty(b) ? 0 : empty(a) ? 1 : -1;
  const c = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
  return dir === "asc" ? c : -c;
}

/** The rows sorted by `key` (stable: ties keep point order). */
export function sortRows(rows, key, dir) {
  if (!key) return rows;
  return rows
    .map((r, i) => [r, i])
    .sort(([a, i], [b, j]) => compareCells(a[key], b[key], dir) || i - j)
    .map(([r]) => r);
}

/** "3 of 5 complete, 1 failed, …": the counts that are not zero. */
export function countsText(c) {
  if (!c) return "";
  const parts = [`${c.complete ?? 0} of ${c.planned ?? 0} complete`];
  for (const k of ["processing", "queued", "failed", "missing", "reused"]) if (c[k]) parts.push(`${c[k]} ${k}`);
  return parts.join(", ");
}

function PointsTable({ frame, axes, kpis }) {
  const [sort, setSort] = useState({ key: "point", dir: "asc" });
  const [page, setPage] = useState(0);
  const columns = frame.fields.filter((f) => f.key !== "scenario_id");
  const sorted = useMemo(() => sortRows(frame.rows, sort.key, sort.dir), [frame.rows, sort.key, sort.dir]);
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE));
  const current = Math.min(page, pages - 1);
  const rows = sorted.slice(current * PAGE, current * PAGE + PAGE);
  const kpiOf = (key) => kpis.find((k) => k.name === key);
  const by = (key) => {
    // A KPI sorts best first on the first click; other columns ascending.
    const k = kpiOf(key);
    const first = k && ["higher", "at_least"].includes(k.better_when) ? "desc" : "asc";
    setSort((old) => ({ key, dir: old.key === key ? (old.dir === "asc" ? "desc" : "asc") : first }));
    setPage(0);
  };
  const kind = (key) => (FIXED.includes(key) ? "" : axes.includes(key) ? "parameter" : "KPI");
  const first = frame.rows.length ? current * PAGE + 1 : 0;
  return html`<div>
    <div class="pager">
      <button onClick=${() => setPage(current - 1)} disabled=${current === 0}>Previous</button>
      <span aria-live="polite" data-testid="points-range">Rows ${first}–${current * PAGE + rows.length} of ${sorted.length}</span>
      <button onClick=${() => setPage(current + 1)} disabled=${current >= pages - 1}>Next</button>
    </div>
    <div class="table-wrap">
      <table aria-label="Points" class="points">
        <thead><tr>${columns.map((f) => {
          const on = sort.key === f.key;
          const k = kpiOf(f.key);
          return html`<th scope="col" class=${f.type === "number" || f.type === "integer" ? "num" : ""}
            aria-sort=${on ? (sort.dir === "asc" ? "ascending" : "descending") : null} data-column=${f.key}>
            <button class="sort" onClick=${() => by(f.key)} title=${`Sort by ${f.label}`}>${f.label}${on ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}</button>
            ${kind(f.key) && html`<span class="unit small">${kind(f.key)}${k?.unit ? `, ${k.unit}` : ""}</span>`}
          </th>`;
        })}</tr></thead>
        <tbody>${rows.map(
          (r) => html`<tr data-point=${r.point} data-scenario=${r.scenario_id}>${columns.map((f) =>
            f.key === "point"
              ? html`<td class="num" data-column="point"><a href=${link("scenarios", r.scenario_id)} title="Open this point's scenario">#${r.point}</a></td>`
              : f.key === "status"
                ? html`<td data-column="status"><${StatusBadge} status=${r.status} /></td>`
                : html`<td class=${f.type === "number" || f.type === "integer" ? "num" : ""} data-column=${f.key} data-value=${r[f.key] ?? ""}>${formatCell(r[f.key], f.type)}</td>`
          )}</tr>`
        )}</tbody>
      </table>
    </div>
  </div>`;
}

export function ExperimentDetail({ base, id, progress, kpis, onChange }) {
  const [exp, setExp] = useState(null);
  const [frame, setFrame] = useState(null);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0); // bumps when a new frame is in
  const path = `${base}/experiments/${seg(id)}`;
  const timer = useRef(null);
  const lastStatus = useRef(null);
  const lastLoad = useRef(0);

  async function load() {
    lastLoad.current = Date.now();
    try {
      const [x, f] = await Promise.all([api.get(path), readFrame(`${path}/frame`)]);
      setExp(x);
      setFrame(f);
      setVersion((v) => v + 1);
      setError(null);
      if (lastStatus.current !== null && lastStatus.current !== x.status) onChange();
      lastStatus.current = x.status;
    } catch (err) {
      setError(err.status === 404 ? "This experiment does not exist (any more)." : err.message);
    }
  }
  useEffect(() => {
    load();
    return () => timer.current !== null && clearTimeout(timer.current);
  }, [id]);
  // The session stream's `experiment.progress` for this experiment (no polling):
  // read it and its frame again, at once when the last read is FRAME_MS old, else
  // once FRAME_MS after it (the counts and the table stay of one moment).
  const seen = useRef(progress);
  useEffect(() => {
    if (!progress || progress === seen.current) return;
    seen.current = progress;
    if (timer.current !== null) return;
    const wait = Math.max(0, lastLoad.current + FRAME_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      load();
    }, wait);
  }, [progress]);

  async function cancel() {
    try {
      setExp(await api.post(`${path}/cancel`));
      onChange();
    } catch (err) {
      setError(err.message);
    }
  }
  async function remove(scenarios) {
    const what = scenarios === "delete" ? " and the scenarios it created" : "";
    if (!window.confirm(`Delete experiment "${exp.name}"${what}?`)) return;
    try {
      await api.del(`${path}?scenarios=${scenarios}`);
      onChange();
      go("experiments");
    } catch (err) {
      setError(err.message);
    }
  }

  if (error && !exp) return html`<${Notice} kind="error">${error}<//>`;
  if (!exp || !frame) return html`<p class="muted">Loading…</p>`;
  const c = exp.counts || {};
  const done = (c.complete ?? 0) + (c.failed ?? 0) + (c.missing ?? 0);
  const kind = exp.design?.kind ?? "";
  const axes = Array.isArray(exp.axes) ? exp.axes : [];
  const kpiKeys = frame.fields.map((f) => f.key).filter((k) => !FIXED.includes(k) && !axes.includes(k));
  const axisText = (exp.design?.axes || []).map((a) => {
    if (a.on === "dataset") return `dataset (${(a.values || []).map((v) => (typeof v === "object" && v ? `${v.key}${v.version ? ` v${v.version}` : ""}` : v)).join(", ")})`;
    const range = a.values ? a.values.join(", ") : a.min !== undefined || a.max !== undefined ? `${a.min ?? "min"} to ${a.max ?? "max"}` : "default range";
    return `${a.on === "data" ? "data." : ""}${a.name} (${range})`;
  });
  return html`<section class="panel" aria-labelledby="exp-title" data-testid="experiment-detail">
      <div class="row spread">
        <h2 id="exp-title">${exp.name}</h2>
        <div class="row">
          <button onClick=${cancel} disabled=${exp.status !== "running"}>Cancel</button>
          <button class="danger" onClick=${() => remove("keep")} title="The scenarios stay in the session">Delete</button>
          <button class="danger" onClick=${() => remove("delete")}>Delete with its scenarios</button>
        </div>
      </div>
      <${Notice} kind="error">${error}<//>
      <div class="progress-line" aria-live="polite" data-testid="experiment-status">
        <${StatusBadge} status=${exp.status} />
        <${Progress} value=${c.planned ? done / c.planned : 0} label=${`Progress of ${exp.name}`} />
        <span class="small" data-testid="experiment-counts">${countsText(c)}</span>
      </div>
      <p class="small muted">Design <strong>${kind}</strong>${exp.design?.n ? ` of ${exp.design.n} points (seed ${exp.design.seed ?? 0})` : ""} over ${axisText.join("; ")}.
        Base: algorithm <strong>${exp.base?.algo_name}</strong> on dataset <strong>${exp.base?.dataset_key}</strong>${exp.base?.algo_params && Object.keys(exp.base.algo_params).length
          ? html`, parameters <span class="mono">${JSON.stringify(exp.base.algo_params)}</span>` : ""}.</p>
    </section>
    <section class="panel" aria-labelledby="points-title">
      <h2 id="points-title">Points (${frame.total})</h2>
      <p class="small muted">Sort by any column; a point's number opens its scenario.</p>
      <${PointsTable} frame=${frame} axes=${axes} kpis=${kpis} />
    </section>
    <${SensitivityChart} path=${path} kind=${kind} kpiKeys=${kpiKeys} kpis=${kpis} version=${version} />
    <${ScatterChart} rows=${frame.rows} axes=${axes} kpiKeys=${kpiKeys} kpis=${kpis} />
    <${ParallelChart} rows=${frame.rows} axes=${axes} kpiKeys=${kpiKeys} kpis=${kpis} />`;
}
