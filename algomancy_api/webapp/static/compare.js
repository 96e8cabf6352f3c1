// Compare: scenarios as rows, KPIs and parameters as columns (the server's KPI frame,
// with deltas and verdicts against a baseline); sortable, filterable, select-all;
// bar charts of the selection, a KPI-against-KPI scatter with the non-dominated
// scenarios marked, and "Download report".
import { html, useEffect, useMemo, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { API, call, api, debounced, download, followEvents, seg, sessionEnds } from "./api.js";
import { Notice, formatNumber } from "./ui.js";
import { CompareViews } from "./views.js";
import { KpiValue, isBinary } from "./kpiview.js";
import { scatterChart, useChart } from "./expcharts.js";

const HIGHER = ["higher", "at_least"];
const PAGE = 100;
const MAX_BARS = 50;
const MAX_REPORT_IDS = 300;
/** Result views are drawn for at most this many of the selected scenarios. */
const MAX_VIEWS = 12;
/** Changes that alter the comparison: the frame is read again (at most this often, ms). */
const RELOAD_MS = 500;
const RELOADS = ["reset", "scenario.created", "scenario.deleted", "scenario.complete", "scenario.failed", "scenario.reset"];
const GOOD = ["improved", "pass"];
const BAD = ["worse", "fail"];

/** Whether `value` breaks the KPI's threshold (none: never). */
export function breached(kpi, value) {
  if (kpi.threshold === null || kpi.threshold === undefined || value === null || value === undefined) return false;
  return HIGHER.includes(kpi.better_when) ? value < kpi.threshold : value > kpi.threshold;
}

const DIRECTION = {
  higher: "higher is better",
  lower: "lower is better",
  at_least: "at least the threshold",
  at_most: "at most the threshold",
};

/** Indexes of the rows no other row beats on both KPIs (in their directions). */
export function nonDominated(points, xHigher, yHigher) {
  const better = (a, b, higher) => (higher ? a > b : a < b);
  const atLeast = (a, b, higher) => (higher ? a >= b : a <= b);
  const keep = [];
  points.forEach((p, i) => {
    const beaten = points.some(
      (q, j) =>
        j !== i &&
        atLeast(q.x, p.x, xHigher) &&
        atLeast(q.y, p.y, yHigher) &&
        (better(q.x, p.x, xHigher) || better(q.y, p.y, yHigher))
    );
    if (!beaten) keep.push(i);
  });
  return keep;
}

function verdictClass(verdict) {
  return GOOD.includes(verdict) ? "good" : BAD.includes(verdict) ? "bad" : "";
}

function percent(value) {
  if (value === null || value === undefined) return "";
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
}

/** The frame's rows as scenarios: {id, tag, status, baseline, kpis: {k: {value, delta, rel, verdict}}, params}. */
function readFrame(frame) {
  const ctx = frame.source?.context || {};
  const binary = ctx.binary || [];
  const displays = ctx.displays || {};
  const kpis = Object.keys(ctx.units || {}).map((key) => ({
    key,
    name: key,
    unit: ctx.units[key],
    better_when: ctx.better_when[key],
    threshold: ctx.thresholds[key],
    kind: binary.includes(key) ? "binary" : "number",
  }));
  const params = frame.columns.filter((c) => c.startsWith("param.")).map((c) => c.slice(6));
  const rows = frame.rows.map((row, i) => ({
    id: ctx.ids[i],
    tag: row.scenario,
    input_data_id: ctx.datasets?.[i],
    dataset_version: ctx.dataset_versions?.[i] ?? null,
    status: row.status,
    algorithm: row.algorithm,
    baseline: row.baseline === true,
    kpis: Object.fromEntries(
      kpis.map((k) => [
        k.key,
        {
          value: row[k.key],
          delta: row[`${k.key}.delta`],
          rel: row[`${k.key}.delta_rel`],
          verdict: row[`${k.key}.verdict`],
          // As kpiview.js reads a KPI: pass/fail with details, a quantity's display.
          shown: {
            value: row[k.key],
            unit: k.unit,
            kind: k.kind,
            passed: row[k.key] === 1,
            details: row[`${k.key} details`] ?? null,
            display: displays[k.key]?.[i] ? { text: displays[k.key][i] } : null,
          },
        },
      ])
    ),
    params: Object.fromEntries(params.map((p) => [p, row[`param.${p}`]])),
  }));
  return { kpis, params, rows, pinned: ctx.pinned_baseline || null, baseline: ctx.baseline || null };
}

function sortValue(row, key) {
  if (key === "tag") return row.tag.toLowerCase();
  if (key === "status") return row.status;
  if (key.startsWith("kpi:")) return row.kpis[key.slice(4)]?.value ?? null;
  const value = row.params[key.slice(6)];
  return value === null || value === undefined ? null : typeof value === "object" ? JSON.stringify(value) : value;
}

function compareRows(key, dir) {
  return (a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === y) return 0;
    if (x === null) return 1; // missing values last, either way
    if (y === null) return -1;
    return (x < y ? -1 : 1) * dir;
  };
}

function paramText(value) {
  if (value === null || value === undefined) return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function SortHeader({ label, name, sortKey, sort, setSort, className = "", children }) {
  const active = sort.key === sortKey;
  const ariaSort = active ? (sort.dir > 0 ? "ascending" : "descending") : "none";
  const next = () => setSort({ key: sortKey, dir: active ? -sort.dir : 1 });
  return html`<th scope="col" class=${className} aria-sort=${ariaSort}>
    <button type="button" class="sort" aria-label=${name} onClick=${next}>${label}${active ? (sort.dir > 0 ? " ▲" : " ▼") : ""}</button>
    ${children}
  </th>`;
}

function KpiCell({ kpi, cell, withBaseline }) {
  const breach = breached(kpi, cell.value);
  const cls = ["num", withBaseline ? verdictClass(cell.verdict) : breach ? "bad" : ""].join(" ");
  return html`<td class=${cls} data-verdict=${withBaseline ? cell.verdict : null} data-breach=${breach ? "true" : null}>
    <${KpiValue} kpi=${cell.shown} />
    ${withBaseline && html`<span class="delta small">${cell.verdict === "missing" ? "missing" : `${percent(cell.rel)} ${cell.verdict}`}</span>`}
  </td>`;
}

/** A horizontal bar per scenario: the chart grows downwards, so labels never drop out. */
function KpiChart({ kpi, rows }) {
  const shown = rows.slice(0, MAX_BARS);
  const box = useRef(null);
  const canvas = useChart(
    (el) => {
      // Sized through the CSSOM (the page's policy refuses style attributes).
      box.current.style.height = `${Math.max(120, 22 * shown.length + 50)}px`;
      const values = shown.map((r) => r.kpis[kpi.key]?.value ?? null);
      const colours = shown.map((r) =>
        r.baseline ? "#4b5563" : BAD.includes(r.kpis[kpi.key]?.verdict) || breached(kpi, r.kpis[kpi.key]?.value) ? "#dc2626" : GOOD.includes(r.kpis[kpi.key]?.verdict) ? "#15803d" : "#2563eb"
      );
      return new window.Chart(el, {
        type: "bar",
        data: { labels: shown.map((r) => r.tag), datasets: [{ label: `${kpi.name} (${kpi.unit})`, data: values, backgroundColor: colours }] },
        options: {
          indexAxis: "y",
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { x: { title: { display: true, text: kpi.unit } }, y: { ticks: { autoSkip: false } } },
        },
      });
    },
    [kpi, rows]
  );
  const summary = shown.map((r) => `${r.tag}: ${formatNumber(r.kpis[kpi.key]?.value)}`).join(", ");
  return html`<figure class="chart-box" data-chart=${kpi.key}>
    <figcaption><strong>${kpi.name}</strong> <span class="small muted">(${kpi.unit}, ${DIRECTION[kpi.better_when] || kpi.better_when})</span></figcaption>
    <div class="bar-box" ref=${box}><canvas ref=${canvas} role="img" aria-label=${`${kpi.name} per scenario: ${summary}`}></canvas></div>
  </figure>`;
}

function Scatter({ kpis: all, rows }) {
  const kpis = all.filter((k) => !isBinary(k));
  const [xKey, setX] = useState(kpis[0]?.key);
  const [yKey, setY] = useState(kpis[1]?.key ?? kpis[0]?.key);
  const x = kpis.find((k) => k.key === xKey) || kpis[0];
  const y = kpis.find((k) => k.key === yKey) || kpis[0];
  const points = useMemo(
    () =>
      rows
        .map((r) => ({ x: r.kpis[x.key]?.value, y: r.kpis[y.key]?.value, tag: r.tag }))
        .filter((p) => p.x !== null && p.x !== undefined && p.y !== null && p.y !== undefined),
    [rows, x, y]
  );
  const front = useMemo(() => new Set(nonDominated(points, HIGHER.includes(x.better_when), HIGHER.includes(y.better_when))), [points, x, y]);
  const canvas = useChart(
    (el) =>
      scatterChart(el, {
        datasets: [
          { label: "non-dominated", data: points.filter((_, i) => front.has(i)), backgroundColor: "#15803d", pointStyle: "triangle", pointRadius: 7 },
          { label: "dominated", data: points.filter((_, i) => !front.has(i)), backgroundColor: "#2563eb", pointRadius: 4 },
        ],
        label: (p) => `${p.tag}: ${formatNumber(p.x)}, ${formatNumber(p.y)}`,
        x: `${x.name} (${x.unit}, ${DIRECTION[x.better_when]})`,
        y: `${y.name} (${y.unit}, ${DIRECTION[y.better_when]})`,
      }),
    [points, front]
  );
  const names = points.filter((_, i) => front.has(i)).map((p) => p.tag);
  return html`<section class="panel" aria-labelledby="scatter-title">
    <h2 id="scatter-title">Trade-off</h2>
    <div class="row">
      <label>X <select aria-label="X axis KPI" value=${x.key} onChange=${(e) => setX(e.target.value)}>${kpis.map((k) => html`<option value=${k.key}>${k.name}</option>`)}</select></label>
      <label>Y <select aria-label="Y axis KPI" value=${y.key} onChange=${(e) => setY(e.target.value)}>${kpis.map((k) => html`<option value=${k.key}>${k.name}</option>`)}</select></label>
    </div>
    <div class="scatter-box"><canvas ref=${canvas} role="img" aria-label=${`${y.name} against ${x.name}; non-dominated: ${names.join(", ")}`}></canvas></div>
    <p class="small" data-testid="non-dominated">Non-dominated (${names.length}): ${names.slice(0, 30).join(", ")}${names.length > 30 ? ", …" : ""}</p>
  </section>`;
}

/** Datasets the scenarios ran on in more than one version: `[{key, versions}]`. */
export function mixedVersions(scenarios) {
  const byKey = new Map();
  for (const s of scenarios) {
    const key = s.input_data_id;
    const version = s.dataset_version ?? "unknown";
    if (!byKey.has(key)) byKey.set(key, new Set());
    byKey.get(key).add(version);
  }
  return [...byKey.entries()]
    .filter(([, versions]) => versions.size > 1)
    .map(([key, versions]) => ({ key, versions: [...versions].sort() }));
}

function VersionWarning({ scenarios }) {
  const mixed = mixedVersions(scenarios);
  if (!mixed.length) return null;
  return html`<div data-testid="version-warning">${mixed.map(
    (m) => html`<${Notice} kind="warning">These scenarios ran on different versions of dataset
      "${m.key}" (${m.versions.map((v) => (v === "unknown" ? "unknown" : `v${v}`)).join(", ")}):
      their KPIs may differ because the data differs. ${scenarios
        .filter((s) => s.input_data_id === m.key)
        .map((s) => `${s.tag}: ${s.dataset_version === null || s.dataset_version === undefined ? "unknown" : `v${s.dataset_version}`}`)
        .join("; ")}.<//>`
  )}</div>`;
}

export function ComparePage({ session }) {
  const base = `/sessions/${seg(session.id)}`;
  const [frame, setFrame] = useState(null);
  const [error, setError] = useState(null);
  const [baseline, setBaseline] = useState(undefined); // undefined: the pinned one, once known
  const [diffOnly, setDiffOnly] = useState(false);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState({ key: "", dir: 1 });
  const [selected, setSelected] = useState(null); // Set of ids; null: not chosen yet
  const [page, setPage] = useState(0);
  const [format, setFormat] = useState("xlsx");
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    const load = async () => {
      let chosen = baseline;
      if (chosen === undefined) {
        const pin = await api.get(`${base}/baseline`);
        chosen = pin.scenario_id || "";
        if (live) setBaseline(chosen);
      }
      const query = new URLSearchParams({ parameters: "true" });
      if (chosen) query.set("baseline", chosen);
      if (diffOnly) query.set("diff_only", "true");
      const body = await api.get(`${base}/kpis/frame?${query}`);
      if (live) setFrame(readFrame(body));
    };
    load().catch((e) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [base, baseline, diffOnly, tick]);

  // The session's event stream keeps the comparison current: a scenario that
  // finishes, appears or goes reads the frame again (debounced).
  useEffect(() => {
    const controller = new AbortController();
    const reload = debounced(() => setTick((t) => t + 1), RELOAD_MS, controller.signal);
    followEvents(
      `${base}/events`,
      (type) => {
        if (RELOADS.includes(type)) reload();
      },
      controller.signal,
      sessionEnds
    );
    return () => controller.abort();
  }, [base]);

  const rows = frame?.rows || [];
  const f = filter.trim().toLowerCase();
  const shown = useMemo(() => {
    const kept = f
      ? rows.filter((r) => r.tag.toLowerCase().includes(f) || r.status.includes(f) || (r.algorithm || "").toLowerCase().includes(f))
      : rows;
    return sort.key ? [...kept].sort(compareRows(sort.key, sort.dir)) : kept;
  }, [rows, f, sort]);
  useEffect(() => {
    if (frame && selected === null) setSelected(new Set(rows.slice(0, 12).map((r) => r.id)));
  }, [frame]);
  useEffect(() => setPage(0), [f, sort]);

  // Result views need the scenarios in full (their result tables): the first few selected.
  const [full, setFull] = useState({});
  const viewIds = rows.filter((r) => (selected || new Set()).has(r.id) && r.status === "complete").slice(0, MAX_VIEWS).map((r) => r.id);
  useEffect(() => {
    for (const id of viewIds) {
      if (full[id]) continue;
      api.get(`${base}/scenarios/${seg(id)}`).then(
        (s) => setFull((old) => ({ ...old, [id]: s })),
        () => {}
      );
    }
  }, [viewIds.join(",")]);
  const views = viewIds.map((id) => full[id]).filter(Boolean);

  if (!frame) return html`<h1>Compare</h1><${Notice} kind="error">${error}<//><p class="muted">Loading…</p>`;
  const chosen = selected || new Set();
  const picked = shown.filter((r) => chosen.has(r.id));
  const allShown = shown.length > 0 && shown.every((r) => chosen.has(r.id));
  const toggleAll = (on) => {
    const next = new Set(chosen);
    for (const r of shown) on ? next.add(r.id) : next.delete(r.id);
    setSelected(next);
  };
  const toggle = (id, on) => {
    const next = new Set(chosen);
    on ? next.add(id) : next.delete(id);
    setSelected(next);
  };
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const current = Math.min(page, pages - 1);
  const visible = shown.slice(current * PAGE, current * PAGE + PAGE);
  const withBaseline = Boolean(frame.baseline);
  const pin = async () => {
    try {
      await call("PUT", `${API}${base}/baseline`, { json: { scenario_id: baseline } });
      setTick((t) => t + 1);
    } catch (e) {
      setError(e.message);
    }
  };
  const report = async () => {
    const query = new URLSearchParams({ format });
    if (picked.length && picked.length < rows.length) {
      // The ids travel in the URL, which servers cap at a few kilobytes.
      if (picked.length > MAX_REPORT_IDS) {
        setError(`A report takes all scenarios or at most ${MAX_REPORT_IDS} selected ones; ${picked.length} are selected.`);
        return;
      }
      query.set("ids", picked.map((r) => r.id).join(","));
    }
    if (baseline) query.set("baseline", baseline);
    try {
      await download(`${base}/report?${query}`, `report.${format}`);
    } catch (e) {
      setError(e.message);
    }
  };

  return html`<h1>Compare</h1>
    <${Notice} kind="error">${error}<//>
    <section class="panel compare-controls" aria-label="Comparison options">
      <div class="field">
        <label for="compare-baseline">Baseline</label>
        <select id="compare-baseline" value=${baseline || ""} onChange=${(e) => setBaseline(e.target.value)}>
          <option value="">none</option>
          ${rows.map((r) => html`<option value=${r.id}>${r.tag}${r.id === frame.pinned ? " (pinned)" : ""}</option>`)}
        </select>
        ${baseline && baseline !== frame.pinned && html`<button type="button" class="link" onClick=${pin}>Pin as the session's baseline</button>`}
      </div>
      <div class="field">
        <label for="compare-filter">Filter</label>
        <input id="compare-filter" type="search" placeholder="tag, status, algorithm" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
      </div>
      <label class="choice"><input type="checkbox" checked=${diffOnly} onChange=${(e) => setDiffOnly(e.target.checked)} /> Only parameters that differ</label>
      <div class="field">
        <label for="report-format">Report</label>
        <div class="row">
          <select id="report-format" value=${format} onChange=${(e) => setFormat(e.target.value)}>
            <option value="xlsx">Excel (XLSX)</option><option value="html">HTML</option><option value="pdf">PDF</option>
          </select>
          <button type="button" class="primary" onClick=${report}>Download report</button>
        </div>
      </div>
    </section>
    <${VersionWarning} scenarios=${picked} />
    <section class="panel" aria-labelledby="table-title">
      <h2 id="table-title">Scenarios</h2>
      <p class="small muted" data-testid="compare-count">${shown.length} of ${rows.length} shown, ${picked.length} selected${withBaseline ? `; against ${frame.baseline.tag}` : ""}.</p>
      <div class="table-wrap compare-wrap"><table aria-label="Scenario comparison" class="compare">
        <thead><tr>
          <th scope="col" class="pick"><input type="checkbox" aria-label="Select all shown" checked=${allShown} onChange=${(e) => toggleAll(e.target.checked)} /></th>
          <${SortHeader} label="Scenario" sortKey="tag" sort=${sort} setSort=${setSort} className="first" />
          <${SortHeader} label="Status" sortKey="status" sort=${sort} setSort=${setSort} />
          ${frame.kpis.map(
            (k) => html`<${SortHeader} label=${k.name} sortKey=${`kpi:${k.key}`} sort=${sort} setSort=${setSort} className="num">
              <span class="small muted unit">${isBinary(k) ? "pass or fail" : `${k.unit ? `${k.unit}, ` : ""}${DIRECTION[k.better_when] || k.better_when}`}</span><//>`
          )}
          ${frame.params.map(
            (p) => html`<${SortHeader} label=${p} name=${`parameter ${p}`} sortKey=${`param.${p}`} sort=${sort} setSort=${setSort} className="param">
              <span class="small muted unit">parameter</span><//>`
          )}
        </tr></thead>
        <tbody>${visible.map(
          (r) => html`<tr key=${r.id} data-scenario=${r.tag} class=${r.baseline ? "is-baseline" : ""}>
            <td class="pick"><input type="checkbox" aria-label=${`Select ${r.tag}`} checked=${chosen.has(r.id)} onChange=${(e) => toggle(r.id, e.target.checked)} /></td>
            <th scope="row" class="first">${r.tag}${r.baseline ? html` <span class="badge">baseline</span>` : ""}</th>
            <td>${r.status}</td>
            ${frame.kpis.map((k) => html`<${KpiCell} kpi=${k} cell=${r.kpis[k.key]} withBaseline=${withBaseline} />`)}
            ${frame.params.map((p) => html`<td class="param">${paramText(r.params[p])}</td>`)}
          </tr>`
        )}</tbody>
      </table></div>
      ${pages > 1 &&
      html`<div class="row pager">
        <button type="button" disabled=${current === 0} onClick=${() => setPage(current - 1)}>Previous</button>
        <span class="small">Rows ${current * PAGE + 1}–${Math.min(shown.length, (current + 1) * PAGE)} of ${shown.length}</span>
        <button type="button" disabled=${current >= pages - 1} onClick=${() => setPage(current + 1)}>Next</button>
      </div>`}
    </section>
    ${picked.length === 0
      ? html`<p class="muted">Select scenarios to chart them.</p>`
      : html`<section aria-labelledby="charts-title">
          <h2 id="charts-title">Charts</h2>
          ${picked.length > MAX_BARS && html`<p class="small muted">The bar charts show the first ${MAX_BARS} of the ${picked.length} selected.</p>`}
          <div class="chart-grid">${frame.kpis.filter((k) => !isBinary(k)).map((k) => html`<${KpiChart} key=${k.key} kpi=${k} rows=${picked} />`)}</div>
        </section>
        ${frame.kpis.filter((k) => !isBinary(k)).length > 1 && html`<${Scatter} kpis=${frame.kpis} rows=${picked} />`}
        ${views.length > 0 && html`<${CompareViews} base=${base} scenarios=${views} />`}`}`;
}
