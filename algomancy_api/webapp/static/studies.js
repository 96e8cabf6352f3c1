// Studies: the session's optimisation studies, the create form, and one study,
// kept live by the session's event stream (one per page, as the Experiments page).
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, followEvents, listOf, seg, sessionEnds } from "./api.js";
import { Notice, StatusBadge, go, link } from "./ui.js";
import { CreateStudy } from "./studyform.js";
import { StudyDetail, trialsEnded } from "./studydetail.js";

function StudyList({ list, selected }) {
  return html`<section class="panel" aria-labelledby="study-list-title">
    <h2 id="study-list-title">Studies (${list.length})</h2>
    ${list.length === 0
      ? html`<p class="muted">No studies yet.</p>`
      : html`<div class="table-wrap"><table aria-label="Studies">
          <thead><tr><th scope="col">Name</th><th scope="col">Objectives</th><th scope="col">Status</th><th scope="col">Trials</th></tr></thead>
          <tbody>${list.map(
            (s) => html`<tr class=${s.id === selected ? "selected" : ""} data-study=${s.name}>
              <td><a href=${link("studies", s.id)} aria-current=${s.id === selected ? "true" : null}>${s.name}</a></td>
              <td>${s.objectives.map((o) => o.kpi).join(", ")}</td>
              <td><${StatusBadge} status=${s.status} /></td>
              <td class="small num" data-testid="counts">${trialsEnded(s)}</td>
            </tr>`
          )}</tbody></table></div>`}
  </section>`;
}

/** The server's word on a study (coalesced: at most one a second per study). */
export const PROGRESS = "study.progress";

/**
 * The session's stream for the Studies page: `progress` is the latest
 * `study.progress` per study id (the list updates in place, the detail reads its
 * study again), `latest` the last one (a study not listed yet: the list is read),
 * `up` whether the stream is followed now (false: down, the detail polls slowly;
 * null: not yet), and `synced` counts the connections made: each (the first too)
 * means reading once (the list, the study) what the stream may not have told.
 */
export function useStudyStream(base, setList) {
  const [progress, setProgress] = useState({});
  const [up, setUp] = useState(null);
  const [synced, setSynced] = useState(0);
  const [latest, setLatest] = useState(null);
  useEffect(() => {
    const controller = new AbortController();
    followEvents(
      `${base}/events`,
      (type, data) => {
        if (type !== PROGRESS || !data?.study) return;
        const s = data.study;
        setProgress((old) => ({ ...old, [s.id]: s }));
        setLatest(s);
        setList((old) => old && old.map((e) => (e.id === s.id ? { ...e, status: s.status, counts: s.counts } : e)));
      },
      controller.signal,
      sessionEnds,
      (now) => {
        setUp(now);
        if (now) setSynced((n) => n + 1);
      }
    );
    return () => controller.abort();
  }, [base]);
  return { progress, latest, up, synced };
}

export function StudiesPage({ session, arg }) {
  const base = `/sessions/${seg(session.id)}`;
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  const [kpis, setKpis] = useState([]);
  const reload = () => setTick((t) => t + 1);
  const { progress, latest, up, synced } = useStudyStream(base, setList);
  useEffect(() => {
    if (latest && list && !list.some((s) => s.id === latest.id)) reload();
  }, [latest]);
  useEffect(() => {
    let live = true;
    api.get(`${base}/studies`).then(
      (b) => live && (setList(listOf(b, "studies")), setError(null)),
      (e) => live && setError(e.message)
    );
    return () => {
      live = false;
    };
  }, [base, tick, synced]);
  useEffect(() => {
    api.get(`${base}/kpis/describe`).then((b) => setKpis(Array.isArray(b) ? b : listOf(b, "kpis")), () => setKpis([]));
  }, [base]);
  return html`<h1>Studies</h1>
    <${Notice} kind="error">${error}<//>
    <div class="grid2">
      <div>
        ${list ? html`<${StudyList} list=${list} selected=${arg} />` : html`<p class="muted">Loading…</p>`}
        <${CreateStudy} base=${base} kpis=${kpis.filter((k) => k.kind !== "binary")} onCreated=${(s) => { reload(); go("studies", s.id); }} />
      </div>
      <div>
        ${arg
          ? html`<${StudyDetail} key=${arg} base=${base} id=${arg} progress=${progress[arg]} live=${up} synced=${synced} onChange=${reload} />`
          : html`<p class="muted">Pick a study, or create one: it searches an algorithm's parameters for the best values of one or more KPIs.</p>`}
      </div>
    </div>`;
}
