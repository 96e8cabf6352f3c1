// One study, followed while it runs (read again on each `study.progress` the
// page's session stream brings for it; every FALLBACK_MS only while that stream is
// down): its status and counts, the best trial or the Pareto set (each pinnable as
// the session's baseline), stop and delete, its charts, and the paged table of its
// trials, each trial opening its scenario.
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { API, api, call, readFrame, seg } from "./api.js";
import { Notice, Progress, StatusBadge, formatCell, formatNumber, go, link } from "./ui.js";
import { HistoryChart, ParetoChart } from "./studycharts.js";

/** How often a running study and its trials are read again while the session stream is down (ms). */
export const FALLBACK_MS = 10_000;
/** Rows of the trials table per page. */
export const PAGE = 100;
const LIVE = ["running", "stopping"];

/** The budgeted trials that ended (complete, pruned or failed; warm-start trials are not budgeted). */
const ended = (c) => Math.max(0, (c.complete ?? 0) + (c.pruned ?? 0) + (c.failed ?? 0) - (c.warm ?? 0));

/** "3 of 20": the trials ended of the budget (a time budget alone: the count). */
export const trialsEnded = (study) => (study.n_trials ? `${ended(study.counts)} of ${study.n_trials}` : String(ended(study.counts)));

/** "3 of 20 trials ended, 2 complete, 1 failed, 2 running, 4 warm": the counts that are not zero. */
export function trialsText(study) {
  const c = study.counts || {};
  const parts = [`${trialsEnded(study)} trials ended`];
  for (const k of ["complete", "pruned", "failed", "running", "warm"]) if (c[k]) parts.push(`${c[k]} ${k}`);
  return parts.join(", ");
}

const valuesText = (study, trial) =>
  study.objectives.map((o, i) => `${o.kpi} ${formatNumber(trial.values?.[i])}`).join(", ");
const paramsText = (params) => Object.entries(params || {}).map(([k, v]) => `${k} ${formatCell(v)}`).join(", ");

function PinButton({ trial, pinned, onPin, label }) {
  if (!trial.scenario_id) return null;
  if (trial.scenario_id === pinned) return html`<span class="badge complete" data-testid="pinned">baseline</span>`;
  return html`<button onClick=${() => onPin(trial)} aria-label=${`${label} (trial ${trial.number})`}>${label}</button>`;
}

function NoneYet({ study }) {
  const running = ["running", "stopping"].includes(study.status);
  return html`<p class="muted" data-testid="study-best">No feasible complete trial${running ? " yet" : ""}.</p>`;
}

function Best({ study, pinned, onPin }) {
  const best = study.best;
  if (!best) return html`<${NoneYet} study=${study} />`;
  return html`<div class="row spread" data-testid="study-best">
    <p>Best: <a href=${link("scenarios", best.scenario_id)}>trial #${best.number}</a>, <strong>${valuesText(study, best)}</strong>
      <span class="small muted"> with ${paramsText(best.params)}</span></p>
    <${PinButton} trial=${best} pinned=${pinned} onPin=${onPin} label="Pin the best as the baseline" />
  </div>`;
}

function ParetoSet({ study, pinned, onPin }) {
  const set = study.pareto || [];
  if (!set.length) return html`<${NoneYet} study=${study} />`;
  return html`<div class="table-wrap" data-testid="study-best"><table aria-label="Pareto set">
    <thead><tr><th scope="col">Trial</th>${study.objectives.map((o) => html`<th scope="col" class="num">${o.kpi}</th>`)}<th scope="col">Parameters</th><th scope="col">Baseline</th></tr></thead>
    <tbody>${set.map((t) => html`<tr data-trial=${t.number}>
      <td><a href=${link("scenarios", t.scenario_id)}>#${t.number}</a></td>
      ${study.objectives.map((o, i) => html`<td class="num">${formatNumber(t.values?.[i])}</td>`)}
      <td class="small">${paramsText(t.params)}</td>
      <td><${PinButton} trial=${t} pinned=${pinned} onPin=${onPin} label="Pin" /></td>
    </tr>`)}</tbody></table></div>`;
}

function TrialsTable({ frame }) {
  const [page, setPage] = useState(0);
  const columns = frame.fields.filter((f) => f.key !== "scenario_id");
  const pages = Math.max(1, Math.ceil(frame.rows.length / PAGE));
  const current = Math.min(page, pages - 1);
  const rows = frame.rows.slice(current * PAGE, current * PAGE + PAGE);
  const num = (f) => (f.type === "number" || f.type === "integer" ? "num" : "");
  return html`<div>
    <div class="pager">
      <button onClick=${() => setPage(current - 1)} disabled=${current === 0}>Previous</button>
      <span aria-live="polite">Rows ${rows.length ? current * PAGE + 1 : 0}–${current * PAGE + rows.length} of ${frame.rows.length}</span>
      <button onClick=${() => setPage(current + 1)} disabled=${current >= pages - 1}>Next</button>
    </div>
    <div class="table-wrap"><table aria-label="Trials" class="points">
      <thead><tr>${columns.map((f) => html`<th scope="col" class=${num(f)}>${f.label}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr data-trial=${r.number} data-scenario=${r.scenario_id ?? ""}>${columns.map((f) =>
        f.key === "number"
          ? html`<td class="num">${r.scenario_id ? html`<a href=${link("scenarios", r.scenario_id)} title="Open this trial's scenario">#${r.number}</a>` : `#${r.number}`}</td>`
          : f.key === "state"
            ? html`<td><${StatusBadge} status=${r.state} /></td>`
            : html`<td class=${num(f)} data-column=${f.key} data-value=${r[f.key] ?? ""}>${formatCell(r[f.key], f.type)}</td>`
      )}</tr>`)}</tbody>
    </table></div>
  </div>`;
}

/** What the study's view is following: the stream, or (it is down) a slow poll. */
function Following({ study, live }) {
  if (!LIVE.includes(study.status)) return null;
  return live === false
    ? html`<span class="small muted" data-testid="study-following" data-following="poll">Live updates interrupted: read again every ${FALLBACK_MS / 1000} s</span>`
    : html`<span class="small muted" data-testid="study-following" data-following="stream">Live</span>`;
}

/**
 * `progress`: the page stream's latest `study.progress` for this study (each new
 * one: read again); `live`: whether that stream is up (false: poll every
 * FALLBACK_MS while the study runs); `synced`: bumps at each connection of the
 * stream (read once: what it may have missed).
 */
export function StudyDetail({ base, id, progress, live, synced, onChange }) {
  const [study, setStudy] = useState(null);
  const [frame, setFrame] = useState(null);
  const [pinned, setPinned] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const [reads, setReads] = useState(0); // reads done (on the page for tests: data-reads)
  const path = `${base}/studies/${seg(id)}`;
  const lastStatus = useRef(null);
  const mounted = useRef(true);
  const reading = useRef(false); // a read is under way
  const again = useRef(false); // asked for meanwhile: read once more after it

  useEffect(() => {
    api.get(`${base}/baseline`).then((b) => setPinned(b.scenario_id), () => setPinned(null));
  }, [base]);
  // Read the study, then its trials (so that the trials of an ended study are all
  // told); one read at a time, a request meanwhile makes one more after it.
  async function load() {
    if (reading.current) {
      again.current = true;
      return;
    }
    reading.current = true;
    try {
      const s = await api.get(path);
      const f = await readFrame(`${path}/trials`);
      if (!mounted.current) return;
      if (lastStatus.current !== null && lastStatus.current !== s.status) onChange();
      lastStatus.current = s.status;
      setStudy(s);
      setFrame(f);
      setError(null);
      setReads((n) => n + 1);
    } catch (err) {
      if (mounted.current) setError(err.status === 404 ? "This study does not exist (any more)." : err.message);
    } finally {
      reading.current = false;
      if (mounted.current && again.current) {
        again.current = false;
        load();
      }
    }
  }
  useEffect(() => {
    mounted.current = true;
    load();
    return () => {
      mounted.current = false;
    };
  }, [path]);
  // The stream's word on this study, or a (re)connection of the stream: read again.
  const seen = useRef(progress);
  useEffect(() => {
    if (!progress || progress === seen.current) return;
    seen.current = progress;
    load();
  }, [progress]);
  const connections = useRef(synced);
  useEffect(() => {
    if (synced === connections.current) return;
    connections.current = synced;
    load();
  }, [synced]);
  // The stream down while the study runs: read again every FALLBACK_MS.
  const running = study !== null && LIVE.includes(study.status);
  useEffect(() => {
    if (live !== false || !running) return;
    const timer = setInterval(load, FALLBACK_MS);
    return () => clearInterval(timer);
  }, [live, running]);

  async function stop() {
    try {
      setStudy(await api.post(`${path}/stop`));
      load();
      onChange();
    } catch (err) {
      setError(err.message);
    }
  }
  async function remove(scenarios) {
    const what = scenarios === "delete" ? " and the scenarios it created" : "";
    if (!window.confirm(`Delete study "${study.name}"${what}?`)) return;
    try {
      await api.del(`${path}?scenarios=${scenarios}`);
      onChange();
      go("studies");
    } catch (err) {
      setError(err.message);
    }
  }
  async function pin(trial) {
    try {
      const b = await call("PUT", `${API}${base}/baseline`, { json: { scenario_id: trial.scenario_id } });
      setPinned(b.scenario_id);
      setNote(html`Trial #${trial.number} (${b.tag}) is the session's baseline: <a href=${link("compare")}>compare against it</a>.`);
    } catch (err) {
      setError(err.message);
    }
  }

  if (error && !study) return html`<${Notice} kind="error">${error}<//>`;
  if (!study || !frame) return html`<p class="muted">Loading…</p>`;
  const multi = study.objectives.length > 1;
  const space = study.space.map((d) => (d.type === "categorical" ? `${d.key} (${d.choices.map((v) => formatCell(v)).join(", ")})` : `${d.key} (${formatNumber(d.low)} to ${formatNumber(d.high)}${d.log ? ", log" : ""})`));
  const goal = study.objectives.map((o) => `${o.direction === "maximize" ? "maximise" : "minimise"} ${o.kpi}`).join(" and ");
  const limits = study.constraints.map((k) => `${k.kpi} ${k.max !== undefined && k.max !== null ? `≤ ${formatNumber(k.max)}` : `≥ ${formatNumber(k.min)}`}`);
  return html`<section class="panel" aria-labelledby="study-title" data-testid="study-detail" data-reads=${reads}>
      <div class="row spread">
        <h2 id="study-title">${study.name}</h2>
        <div class="row">
          <button onClick=${stop} disabled=${study.status !== "running"}>Stop</button>
          <button class="danger" onClick=${() => remove("keep")} title="The scenarios stay in the session">Delete</button>
          <button class="danger" onClick=${() => remove("delete")}>Delete with its scenarios</button>
        </div>
      </div>
      <${Notice} kind="error">${error}<//>
      <${Notice} kind="info">${note}<//>
      <div class="progress-line" aria-live="polite" data-testid="study-status">
        <${StatusBadge} status=${study.status} />
        <${Progress} value=${study.n_trials ? ended(study.counts) / study.n_trials : 0} label=${`Progress of ${study.name}`} />
        <span class="small" data-testid="study-counts">${trialsText(study)}</span>
        <${Following} study=${study} live=${live} />
      </div>
      <p class="small muted">${goal}${limits.length ? ` with ${limits.join(", ")}` : ""}; sampler <strong>${study.sampler}</strong> (seed ${study.seed}), ${study.parallel} at once, over ${space.join("; ")}.
        Base: <strong>${study.base.algo_name}</strong> on <strong>${study.base.dataset_key}</strong>.</p>
      <h3>${multi ? "Pareto set" : "Best trial"}</h3>
      ${multi
        ? html`<${ParetoSet} study=${study} pinned=${pinned} onPin=${pin} />`
        : html`<${Best} study=${study} pinned=${pinned} onPin=${pin} />`}
    </section>
    <${HistoryChart} rows=${frame.rows} study=${study} />
    ${multi && html`<${ParetoChart} rows=${frame.rows} study=${study} />`}
    <section class="panel" aria-labelledby="trials-title">
      <h2 id="trials-title">Trials (${frame.total})</h2>
      <p class="small muted">A trial's number opens its scenario.</p>
      <${TrialsTable} frame=${frame} />
    </section>`;
}
