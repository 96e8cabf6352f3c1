// Studies: the session's optimisation studies, the create form, and one study.
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, listOf, seg } from "./api.js";
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

export function StudiesPage({ session, arg }) {
  const base = `/sessions/${seg(session.id)}`;
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  const [kpis, setKpis] = useState([]);
  const reload = () => setTick((t) => t + 1);
  useEffect(() => {
    let live = true;
    api.get(`${base}/studies`).then(
      (b) => live && (setList(listOf(b, "studies")), setError(null)),
      (e) => live && setError(e.message)
    );
    return () => {
      live = false;
    };
  }, [base, tick]);
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
          ? html`<${StudyDetail} key=${arg} base=${base} id=${arg} onChange=${reload} />`
          : html`<p class="muted">Pick a study, or create one: it searches an algorithm's parameters for the best values of one or more KPIs.</p>`}
      </div>
    </div>`;
}
