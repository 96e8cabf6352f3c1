// Compare: pick scenarios; a KPI table (unit, direction, threshold, best, breaches)
// and a Chart.js bar chart per KPI.
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, seg } from "./api.js";
import { useScenarioList } from "./scenarios.js";
import { Notice, StatusBadge, formatNumber } from "./ui.js";
import { CompareViews } from "./views.js";
import { KpiValue, isBinary } from "./kpiview.js";

const HIGHER = ["higher", "at_least"];

/** Whether `value` breaks the KPI's threshold (none: never). */
export function breached(kpi, value) {
  if (kpi.threshold === null || kpi.threshold === undefined || value === null || value === undefined) return false;
  return HIGHER.includes(kpi.better_when) ? value < kpi.threshold : value > kpi.threshold;
}

function best(kpi, values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!present.length) return null;
  return HIGHER.includes(kpi.better_when) ? Math.max(...present) : Math.min(...present);
}

const DIRECTION = {
  higher: "higher is better",
  lower: "lower is better",
  at_least: "at least the threshold",
  at_most: "at most the threshold",
};

function KpiChart({ kpi, scenarios }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart) return undefined;
    const values = scenarios.map((s) => s.kpis[kpi.key]?.value ?? null);
    const top = best(kpi, values);
    const datasets = [
      {
        type: "bar",
        label: `${kpi.name} (${kpi.unit})`,
        data: values,
        backgroundColor: values.map((v) => (v === top ? "#15803d" : breached(kpi, v) ? "#dc2626" : "#2563eb")),
      },
    ];
    if (kpi.threshold !== null && kpi.threshold !== undefined) {
      datasets.push({
        type: "line",
        label: `threshold ${kpi.threshold}`,
        data: values.map(() => kpi.threshold),
        borderColor: "#92400e",
        borderDash: [6, 4],
        pointRadius: 0,
      });
    }
    const chart = new window.Chart(canvas.current, {
      data: { labels: scenarios.map((s) => s.tag), datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: datasets.length > 1 }, title: { display: false } },
        scales: { y: { title: { display: true, text: kpi.unit } } },
      },
    });
    return () => chart.destroy();
  }, [kpi, scenarios]);
  const summary = scenarios.map((s) => `${s.tag}: ${formatNumber(s.kpis[kpi.key]?.value)}`).join(", ");
  return html`<figure class="chart-box" data-chart=${kpi.key}>
    <figcaption><strong>${kpi.name}</strong> <span class="small muted">(${kpi.unit}, ${DIRECTION[kpi.better_when] || kpi.better_when})</span></figcaption>
    <canvas ref=${canvas} role="img" aria-label=${`${kpi.name} per scenario: ${summary}`}></canvas>
  </figure>`;
}

function Comparison({ scenarios }) {
  const kpis = [];
  for (const s of scenarios) {
    for (const [key, k] of Object.entries(s.kpis || {})) {
      if (!kpis.some((x) => x.key === key)) kpis.push({ key, ...k });
    }
  }
  if (!kpis.length) return html`<p class="muted">These scenarios have no KPIs.</p>`;
  return html`<section class="panel" aria-labelledby="kpi-table-title">
      <h2 id="kpi-table-title">KPIs</h2>
      <p class="small muted">The best value of each KPI is <span class="badge complete">highlighted</span>;
        a value that breaks its threshold is marked <span class="badge failed">⚠ breached</span>.</p>
      <div class="table-wrap"><table aria-label="KPI comparison">
        <thead><tr>
          <th scope="col">KPI</th><th scope="col">Unit</th><th scope="col">Direction</th><th scope="col" class="num">Threshold</th>
          ${scenarios.map((s) => html`<th scope="col" class="num">${s.tag}</th>`)}
        </tr></thead>
        <tbody>${kpis.map((k) => {
          const values = scenarios.map((s) => s.kpis[k.key]?.value ?? null);
          const top = best(k, values);
          return html`<tr data-kpi=${k.key}>
            <th scope="row">${k.name}</th><td>${k.unit}</td><td>${DIRECTION[k.better_when] || k.better_when}</td>
            <td class="num">${k.threshold ?? "–"}</td>
            ${values.map((v, i) => {
              const isBest = v !== null && v === top;
              const isBreach = breached(k, v);
              const cls = ["num", isBest ? "best" : "", isBreach ? "breach" : ""].join(" ");
              return html`<td class=${cls} data-best=${isBest ? "true" : null} data-breach=${isBreach ? "true" : null}>
                <${KpiValue} kpi=${scenarios[i].kpis[k.key]} />${isBest ? html`<span class="visually-hidden"> (best)</span>` : ""}${isBreach ? html` <span title="threshold breached">⚠</span><span class="visually-hidden"> (threshold breached)</span>` : ""}</td>`;
            })}
          </tr>`;
        })}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Charts</h2>
      <div class="chart-grid">${kpis.filter((k) => !isBinary(k)).map((k) => html`<${KpiChart} key=${k.key} kpi=${k} scenarios=${scenarios} />`)}</div>
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
  const { list, error } = useScenarioList(base);
  const [picked, setPicked] = useState([]);
  const [full, setFull] = useState({});
  const [loadError, setLoadError] = useState(null);
  const [filter, setFilter] = useState("");

  useEffect(() => {
    for (const id of picked) {
      if (full[id]) continue;
      api.get(`${base}/scenarios/${seg(id)}`).then(
        (s) => setFull((old) => ({ ...old, [id]: s })),
        (e) => setLoadError(e.message)
      );
    }
  }, [picked]);

  if (!list) return html`<h1>Compare</h1><${Notice} kind="error">${error}<//><p class="muted">Loading…</p>`;
  const complete = list.filter((s) => s.status === "complete");
  const f = filter.trim().toLowerCase();
  const candidates = f ? complete.filter((s) => s.tag.toLowerCase().includes(f)) : complete;
  const chosen = picked.map((id) => full[id]).filter(Boolean);
  const toggle = (id, on) => setPicked((old) => (on ? [...old, id] : old.filter((x) => x !== id)));
  return html`<h1>Compare</h1>
    <${Notice} kind="error">${error || loadError}<//>
    <div class="grid2">
      <section class="panel" aria-labelledby="pick-title">
        <h2 id="pick-title">Pick scenarios</h2>
        <p class="small muted">Complete scenarios of this session (${complete.length}).</p>
        <div class="field">
          <label for="compare-filter">Filter by tag</label>
          <input id="compare-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
        </div>
        <fieldset>
          <legend>Scenarios to compare</legend>
          <div class="list-scroll">
            ${candidates.slice(0, 200).map(
              (s) => html`<label class="choice"><input type="checkbox" checked=${picked.includes(s.id)}
                onChange=${(e) => toggle(s.id, e.target.checked)} />${s.tag} <${StatusBadge} status=${s.status} /></label>`
            )}
            ${candidates.length > 200 && html`<p class="small muted">${candidates.length - 200} more: filter to find them.</p>`}
            ${candidates.length === 0 && html`<p class="muted">No complete scenarios.</p>`}
          </div>
        </fieldset>
      </section>
      <div>
        ${chosen.length
          ? html`<${VersionWarning} scenarios=${chosen} /><${Comparison} scenarios=${chosen} />`
          : html`<p class="muted">Pick two or more scenarios.</p>`}
        ${chosen.length > 0 && html`<${CompareViews} base=${base} scenarios=${chosen} />`}
      </div>
    </div>`;
}
