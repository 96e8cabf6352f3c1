// Scenarios: the list (paged, filtered), the create form, and one scenario live.
import { html, useEffect, useMemo, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, debounced, download, followEvents, listOf, seg, sessionEnds } from "./api.js";
import { ParameterField, wireValues } from "./params.js";
import { useChoices, useParameters } from "./formhooks.js";
import { Notice, Progress, StatusBadge, TableTabs, downloads, formatNumber, go, link } from "./ui.js";
import { ResultViews } from "./views.js";
import { KpiValue } from "./kpiview.js";
import { ParameterFile } from "./paramfile.js";
import { feature } from "./settings.js";
import { NotifyButton, notifyRunEnded } from "./notify.js";

const ACTIVE = ["queued", "processing"];
const PAGE = 50;
/** The list is read from the server in pages of this many scenarios. */
const READ_PAGE = 500;
/** Changes that add or remove rows: the list is read again (at most this often, ms). */
const RELOAD_MS = 250;
const RELOADS = ["open", "reset", "scenario.created", "scenario.deleted", "session.renamed"];

/**
 * The session's scenarios, short form, kept live by the session's event stream
 * (one stream per page; no polling): status and progress changes patch their rows,
 * new and deleted scenarios read the list again. `events` maps a scenario id to the
 * latest event about it, for the page's detail view.
 */
export function useScenarioList(base) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  const [events, setEvents] = useState({});
  useEffect(() => {
    let live = true;
    // Page by page (`limit`/`offset`): each answer stays small and the first rows
    // show at once in a session of thousands. Later pages are appended, so that
    // live patches to the rows already shown are kept.
    (async () => {
      for (let offset = 0; live; offset += READ_PAGE) {
        const url = `${base}/scenarios?view=summary&limit=${READ_PAGE}&offset=${offset}`;
        const rows = listOf(await api.get(url), "scenarios");
        if (!live) return;
        setList((old) => (offset === 0 ? rows : (old ?? []).concat(rows)));
        if (rows.length < READ_PAGE) return;
      }
    })().catch((e) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [base, tick]);
  const patch = (id, change) => setList((old) => old && old.map((s) => (s.id === id ? { ...s, ...change } : s)));
  useEffect(() => {
    const controller = new AbortController();
    const reload = debounced(() => setTick((t) => t + 1), RELOAD_MS, controller.signal);
    followEvents(
      `${base}/events`,
      (type, data) => {
        if (RELOADS.includes(type)) reload();
        const s = data.scenario;
        if (!s || !type.startsWith("scenario.")) return;
        if (type !== "scenario.deleted") {
          setList((old) => {
            if (old && !old.some((row) => row.id === s.id)) reload();
            return old && old.map((row) => (row.id === s.id ? { ...row, status: s.status, progress: s.progress } : row));
          });
        }
        setEvents((old) => ({ ...old, [s.id]: { type, ...s } }));
      },
      controller.signal,
      sessionEnds
    );
    return () => controller.abort();
  }, [base]);
  return { list, error, reload: () => setTick((t) => t + 1), patch, events };
}

function algorithmName(s) {
  return s.algorithm?.name ?? s.algo_name ?? s.algorithm ?? "";
}

function ScenarioList({ list, selected }) {
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(0);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? list.filter((s) => `${s.tag} ${algorithmName(s)} ${s.status}`.toLowerCase().includes(f)) : list;
  }, [list, filter]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const current = Math.min(page, pages - 1);
  const rows = shown.slice(current * PAGE, current * PAGE + PAGE);
  return html`<section class="panel" aria-labelledby="list-title">
    <h2 id="list-title">Scenarios (${list.length})</h2>
    <div class="row" style="margin-bottom:8px">
      <label for="scenario-filter">Filter</label>
      <input id="scenario-filter" type="search" value=${filter} placeholder="tag, algorithm or status"
        onInput=${(e) => { setFilter(e.target.value); setPage(0); }} />
    </div>
    ${shown.length === 0
      ? html`<p class="muted">No scenarios${filter ? " match" : " yet"}.</p>`
      : html`<div class="table-wrap"><table aria-label="Scenarios">
          <thead><tr><th scope="col">Tag</th><th scope="col">Algorithm</th><th scope="col">Status</th><th scope="col">Progress</th></tr></thead>
          <tbody>${rows.map(
            (s) => html`<tr class=${s.id === selected ? "selected" : ""} data-scenario=${s.tag}>
              <td><a href=${link("scenarios", s.id)} aria-current=${s.id === selected ? "true" : null}>${s.tag}</a>${s.baseline ? html` <span class="badge" title="the session's pinned baseline">baseline</span>` : ""}</td>
              <td>${algorithmName(s)}</td>
              <td><${StatusBadge} status=${s.status} /></td>
              <td class="num">${Math.round((s.progress || 0) * 100)}%</td>
            </tr>`
          )}</tbody></table></div>
        ${pages > 1 &&
        html`<div class="pager">
          <button onClick=${() => setPage(current - 1)} disabled=${current === 0}>Previous</button>
          <span>Page ${current + 1} of ${pages}</span>
          <button onClick=${() => setPage(current + 1)} disabled=${current >= pages - 1}>Next</button>
        </div>`}`}
  </section>`;
}

function CreateScenario({ base, onCreated }) {
  const [tag, setTag] = useState("");
  const [errors, setErrors] = useState({});
  const [dataErrors, setDataErrors] = useState({});
  const [formError, setFormError] = useState(null);
  const [busy, setBusy] = useState(false);
  const { algorithms, algo, setAlgo, datasets, dataset, setDataset } = useChoices(base, setFormError);
  const algoParams = useParameters(algo ? `${base}/algorithms/${seg(algo)}/parameters` : null);
  // The dataset's own parameters (`GET …/data/{key}/parameters`), often none.
  const dataParamsOf = useParameters(dataset ? `${base}/data/${seg(dataset)}/parameters` : null);
  const { params, values, setValues } = algoParams;
  const { params: dataParams, values: dataValues, setValues: setDataValues } = dataParamsOf;
  useEffect(() => setErrors({}), [algo]);
  useEffect(() => setDataErrors({}), [dataset]);

  async function submit(e) {
    e.preventDefault();
    setErrors({});
    setDataErrors({});
    setFormError(null);
    setBusy(true);
    try {
      const created = await api.post(`${base}/scenarios`, {
        tag: tag.trim(),
        dataset_key: dataset,
        algo_name: algo,
        algo_params: wireValues(params, values),
        ...(dataParams.length ? { data_params: wireValues(dataParams, dataValues) } : {}),
      });
      setTag("");
      onCreated(created);
    } catch (err) {
      // The server names the parameter; a data parameter's error shows at its field.
      if (err.parameter && dataParams.some((p) => p.name === err.parameter) && !params.some((p) => p.name === err.parameter)) {
        setDataErrors({ [err.parameter]: err.message });
        document.getElementById(`data-param-${err.parameter}`)?.focus();
      } else if (err.parameter && params.some((p) => p.name === err.parameter)) {
        setErrors({ [err.parameter]: err.message });
        document.getElementById(`param-${err.parameter}`)?.focus();
      } else if (err.status === 409 || err.fields.some((f) => f.loc?.includes("tag"))) {
        setErrors({ __tag: err.message });
      } else {
        setFormError(err.message);
      }
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="panel" aria-labelledby="create-title">
    <h2 id="create-title">New scenario</h2>
    <form onSubmit=${submit} novalidate>
      <${Notice} kind="error">${formError || algoParams.error || dataParamsOf.error}<//>
      <div class="field">
        <label for="scenario-tag">Tag</label>
        <input id="scenario-tag" value=${tag} onInput=${(e) => setTag(e.target.value)} required
          aria-invalid=${errors.__tag ? "true" : null} aria-describedby=${errors.__tag ? "scenario-tag-error" : null} />
        ${errors.__tag && html`<span id="scenario-tag-error" class="error" role="alert">${errors.__tag}</span>`}
      </div>
      <div class="field">
        <label for="scenario-dataset">Dataset</label>
        <select id="scenario-dataset" value=${dataset} onChange=${(e) => setDataset(e.target.value)}>
          ${datasets.map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="scenario-algorithm">Algorithm</label>
        <select id="scenario-algorithm" value=${algo} onChange=${(e) => setAlgo(e.target.value)}>
          ${algorithms.map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </div>
      ${feature("parameter_upload") && html`<${ParameterFile} params=${params} dataParams=${dataParams}
        onValues=${(v) => setValues((old) => ({ ...old, ...v }))} onDataValues=${(v) => setDataValues((old) => ({ ...old, ...v }))} />`}
      ${dataParams.length > 0 && html`<h3>Data parameters</h3>`}
      ${dataParams.map(
        (p) => html`<${ParameterField} key=${dataset + p.name} p=${p} value=${dataValues[p.name]} error=${dataErrors[p.name]}
          idPrefix="data-param-" onChange=${(v) => setDataValues((old) => ({ ...old, [p.name]: v }))} />`
      )}
      ${params.length > 0 && html`<h3>Parameters</h3>`}
      ${params.map(
        (p) => html`<${ParameterField} key=${algo + p.name} p=${p} value=${values[p.name]} error=${errors[p.name]}
          onChange=${(v) => setValues((old) => ({ ...old, [p.name]: v }))} />`
      )}
      <button class="primary" type="submit" disabled=${busy || !tag.trim() || !algoParams.ready || !dataset}>Create scenario</button>
    </form>
  </section>`;
}

/** A timestamp in the browser's time zone and language. */
function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function KpiTable({ kpis }) {
  const rows = Object.entries(kpis || {});
  if (!rows.length) return html`<p class="muted">No KPIs.</p>`;
  return html`<table aria-label="KPIs">
    <thead><tr><th scope="col">KPI</th><th scope="col" class="num">Value</th><th scope="col">Unit</th><th scope="col">Better when</th><th scope="col" class="num">Threshold</th></tr></thead>
    <tbody>${rows.map(
      ([key, k]) => html`<tr data-kpi=${key}><th scope="row">${k.name}</th><td class="num"><${KpiValue} kpi=${k} /></td>
        <td>${k.unit}</td><td>${k.better_when}</td><td class="num">${k.threshold ?? "–"}</td></tr>`
    )}</tbody></table>`;
}

function Lineage({ scenario }) {
  const lineage = scenario.lineage;
  if (!lineage) return null;
  const text = (v) => (v === null || v === undefined || v === "" ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const rows = lineage.known === false
    ? [["Dataset version", "unknown: this scenario predates dataset versions and its dataset was replaced since"]]
    : [
        ["Dataset version", text(lineage.dataset_version)],
        ["Dataset digest", text(lineage.dataset_digest)],
        ["Algorithm version", text(lineage.algorithm?.version)],
        ["Seed", text(lineage.seed)],
        ["Algomancy version", text(lineage.algomancy_version)],
        ["Domain package version", text(lineage.domain_version)],
        ["Executor", text(lineage.executor ?? "not run yet")],
        ["Fingerprint", text(scenario.fingerprint)],
      ];
  return html`<h3>Lineage</h3>
    <table aria-label="Lineage" data-testid="lineage"><tbody>${rows.map(
      ([name, value]) => html`<tr><th scope="row">${name}</th><td class="mono">${value}</td></tr>`
    )}</tbody></table>`;
}

function ScenarioDetail({ base, id, onChange, event }) {
  const [scenario, setScenario] = useState(null);
  const [live, setLive] = useState(null); // the last event: status, progress, message, error
  const [error, setError] = useState(null);
  const [tables, setTables] = useState(null);
  const path = `${base}/scenarios/${seg(id)}`;

  async function load() {
    try {
      const s = await api.get(path);
      setScenario(s);
      setLive(null);
      onChange(s.id, { status: s.status, progress: s.progress });
      if (s.status === "complete") {
        api.get(`${path}/result/tables`).then((b) => setTables(listOf(b, "tables")), () => setTables([]));
      } else {
        setTables(null);
      }
    } catch (err) {
      setError(err.message);
    }
  }
  useEffect(() => {
    setScenario(null);
    setError(null);
    load();
  }, [id]);

  const status = live?.status ?? scenario?.status;
  const active = ACTIVE.includes(status);
  // The page's session stream brings this scenario's changes (no stream of its own).
  const seen = useRef(event);
  useEffect(() => {
    if (!event || event === seen.current) return;
    seen.current = event;
    if (event.type === "scenario.deleted") {
      setError("This scenario was deleted.");
      return;
    }
    setLive(event);
    if (event.type === "scenario.complete" || event.type === "scenario.failed") {
      notifyRunEnded(event.tag, event.status, event.error);
    }
    if (["scenario.complete", "scenario.failed", "scenario.reset"].includes(event.type)) load();
  }, [event]);

  async function act(verb) {
    setError(null);
    try {
      const s = await api.post(`${path}/${verb}`);
      setScenario(s);
      setLive(null);
      setTables(null);
      onChange(s.id, { status: s.status, progress: s.progress });
    } catch (err) {
      setError(err.message);
    }
  }
  async function save(table, format) {
    setError(null);
    try {
      await download(`${path}/result/tables/${seg(table)}/download?format=${format}`, `${scenario.tag}-${table}.${format}`);
    } catch (err) {
      setError(err.message);
    }
  }
  async function remove() {
    if (!window.confirm(`Delete scenario "${scenario.tag}"?`)) return;
    try {
      await api.del(path);
      onChange(id, null);
      go("scenarios");
    } catch (err) {
      setError(err.message);
    }
  }

  if (error && !scenario) return html`<${Notice} kind="error">${error}<//>`;
  if (!scenario) return html`<p class="muted">Loading…</p>`;
  const progress = live?.progress ?? scenario.progress;
  const failure = live?.error ?? scenario.error;
  const terminal = status === "complete" || status === "failed";
  return html`<section class="panel" aria-labelledby="scenario-title" data-testid="scenario-detail">
    <div class="row" style="justify-content: space-between">
      <h2 id="scenario-title">${scenario.tag}</h2>
      <div class="row">
        <button class="primary" onClick=${() => act("run")} disabled=${active}>${terminal ? "Re-run" : "Run"}</button>
        <button onClick=${() => act("cancel")} disabled=${!active}>Cancel</button>
        <button onClick=${() => act("reset")} disabled=${!terminal}
          title="Back to created: the result and KPI values are cleared">Reset</button>
        <button class="danger" onClick=${remove}>Delete</button>
        <${NotifyButton} />
      </div>
    </div>
    <${Notice} kind="error">${error}<//>
    <div class="progress-line" aria-live="polite" data-testid="live-status">
      <${StatusBadge} status=${status} />
      <${Progress} value=${status === "complete" ? 1 : progress} label=${`Progress of ${scenario.tag}`} />
      ${live?.message && html`<span class="small" data-testid="progress-message">${live.message}</span>`}
    </div>
    ${failure && html`<${Notice} kind="error">Error: ${failure}<//>`}
    <p class="small muted">Algorithm <strong>${scenario.algorithm.name}</strong> on dataset <strong>${scenario.input_data_id}</strong>
      <span data-testid="dataset-version">${scenario.dataset_version === null || scenario.dataset_version === undefined
        ? "(version unknown)"
        : `version ${scenario.dataset_version}`}</span>;
      created ${when(scenario.created_at)}${scenario.finished_at ? `, finished ${when(scenario.finished_at)}` : ""}.</p>
    <h3>Parameters</h3>
    <table aria-label="Parameters"><tbody>${scenario.algorithm.parameters.map(
      (p) => html`<tr><th scope="row">${p.name}</th><td>${typeof p.value === "object" ? JSON.stringify(p.value) : String(p.value)}</td></tr>`
    )}</tbody></table>
    ${Object.keys(scenario.data_parameters || {}).length > 0 &&
    html`<h3>Data parameters</h3>
    <table aria-label="Data parameters"><tbody>${Object.entries(scenario.data_parameters).map(
      ([name, value]) => html`<tr><th scope="row">${name}</th><td>${typeof value === "object" ? JSON.stringify(value) : String(value)}</td></tr>`
    )}</tbody></table>`}
    <h3>KPIs</h3>
    <${KpiTable} kpis=${scenario.kpis} />
    <${Lineage} scenario=${scenario} />
    ${status === "complete" && html`<${ResultViews} base=${base} scenario=${scenario} />`}
    ${scenario.result &&
    html`<h3>Result</h3><details><summary>Result (JSON)</summary><pre class="json">${JSON.stringify(scenario.result, null, 2)}</pre></details>`}
    ${tables && tables.length > 0 &&
    html`<h3>Result tables</h3>
      <${TableTabs} tables=${tables} label=${`Result tables of ${scenario.tag}`}
        framePath=${(t) => `${path}/result/tables/${seg(t)}/frame`} actions=${downloads(save)} />`}
  </section>`;
}

export function ScenariosPage({ session, arg }) {
  const base = `/sessions/${seg(session.id)}`;
  const { list, error, reload, patch, events } = useScenarioList(base);
  const onChange = (id, change) => (change === null ? reload() : patch(id, change));
  return html`<h1>Scenarios</h1>
    <${Notice} kind="error">${error}<//>
    <div class="grid2">
      <div>
        ${list ? html`<${ScenarioList} list=${list} selected=${arg} />` : html`<p class="muted">Loading…</p>`}
        <${CreateScenario} base=${base} onCreated=${(s) => { reload(); go("scenarios", s.id); }} />
      </div>
      <div>
        ${arg
          ? html`<${ScenarioDetail} key=${arg} base=${base} id=${arg} onChange=${onChange} event=${events[arg]} />`
          : html`<p class="muted">Pick a scenario, or create one.</p>`}
      </div>
    </div>`;
}
