// Experiments: the session's experiments (live), the create form, and one experiment.
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, debounced, followEvents, listOf, seg, sessionEnds } from "./api.js";
import { Notice, StatusBadge, go, link } from "./ui.js";
import { CreateExperiment } from "./expform.js";
import { ExperimentDetail, countsText } from "./expdetail.js";

/** Changes that add or remove experiments' scenarios: the list is read again (at most this often, ms). */
const RELOAD_MS = 500;
const RELOADS = ["open", "reset", "scenario.created", "scenario.deleted"];
/** The server's word on an experiment's counts (coalesced: at most one a second per experiment). */
export const PROGRESS = "experiment.progress";

/** Whether a session event means reading the list again (progress updates it in place). */
export const movesExperiments = (type) => RELOADS.includes(type) || (type.startsWith("experiment.") && type !== PROGRESS);

/**
 * The session's experiments with their counts, kept live by the session's event
 * stream (one stream per page, as the Scenarios page does): `experiment.progress`
 * events update an experiment's status and counts in place; scenarios created or
 * deleted read the list again, at most every RELOAD_MS. `progress` is the latest
 * event per experiment id, so that the detail view follows them too.
 */
export function useExperimentList(base) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [pulse, setPulse] = useState(0);
  const [tick, setTick] = useState(0);
  const [progress, setProgress] = useState({});
  useEffect(() => {
    let live = true;
    api.get(`${base}/experiments`).then(
      (b) => live && (setList(listOf(b, "experiments")), setError(null)),
      (e) => live && setError(e.message)
    );
    return () => {
      live = false;
    };
  }, [base, pulse, tick]);
  useEffect(() => {
    const controller = new AbortController();
    const reload = debounced(() => setPulse((p) => p + 1), RELOAD_MS, controller.signal);
    followEvents(
      `${base}/events`,
      (type, data) => {
        if (type === PROGRESS && data?.experiment) {
          const x = data.experiment;
          setProgress((old) => ({ ...old, [x.id]: x }));
          setList((old) => old && old.map((e) => (e.id === x.id ? { ...e, status: x.status, counts: x.counts } : e)));
          return;
        }
        if (movesExperiments(type)) reload();
      },
      controller.signal,
      sessionEnds
    );
    return () => controller.abort();
  }, [base]);
  return { list, error, pulse, progress, reload: () => setTick((t) => t + 1) };
}

function ExperimentList({ list, selected }) {
  return html`<section class="panel" aria-labelledby="exp-list-title">
    <h2 id="exp-list-title">Experiments (${list.length})</h2>
    ${list.length === 0
      ? html`<p class="muted">No experiments yet.</p>`
      : html`<div class="table-wrap"><table aria-label="Experiments">
          <thead><tr><th scope="col">Name</th><th scope="col">Design</th><th scope="col">Status</th><th scope="col">Points</th></tr></thead>
          <tbody>${list.map(
            (x) => html`<tr class=${x.id === selected ? "selected" : ""} data-experiment=${x.name}>
              <td><a href=${link("experiments", x.id)} aria-current=${x.id === selected ? "true" : null}>${x.name}</a></td>
              <td>${x.design?.kind ?? ""}</td>
              <td><${StatusBadge} status=${x.status} /></td>
              <td class="small" data-testid="counts">${countsText(x.counts)}</td>
            </tr>`
          )}</tbody></table></div>`}
  </section>`;
}

export function ExperimentsPage({ session, arg }) {
  const base = `/sessions/${seg(session.id)}`;
  const { list, error, progress, reload } = useExperimentList(base);
  const [kpis, setKpis] = useState([]);
  useEffect(() => {
    api.get(`${base}/kpis/describe`).then((b) => setKpis(Array.isArray(b) ? b : listOf(b, "kpis")), () => setKpis([]));
  }, [base]);
  return html`<h1>Experiments</h1>
    <${Notice} kind="error">${error}<//>
    <div class="grid2">
      <div>
        ${list ? html`<${ExperimentList} list=${list} selected=${arg} />` : html`<p class="muted">Loading…</p>`}
        <${CreateExperiment} base=${base} onCreated=${(x) => { reload(); go("experiments", x.id); }} />
      </div>
      <div>
        ${arg
          ? html`<${ExperimentDetail} key=${arg} base=${base} id=${arg} progress=${progress[arg]} kpis=${kpis} onChange=${reload} />`
          : html`<p class="muted">Pick an experiment, or create one.</p>`}
      </div>
    </div>`;
}
