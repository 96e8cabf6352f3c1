// The form that creates a study: a base (algorithm, dataset, parameter values), the
// parameters searched with their ranges, the objectives and an optional constraint
// picked from the KPIs, the sampler, its seed, the trial budget and the parallelism.
import { html, useState } from "../vendor/htm-preact/standalone.module.js";
import { BaseFields, FormError, useAxesForm } from "./createform.js";
import { axisSpec } from "./expform.js";

export const SAMPLERS = [
  ["tpe", "TPE (default)"],
  ["nsga2", "NSGA-II (several objectives)"],
  ["random", "random"],
  ["qmc", "quasi-random (Sobol)"],
  ["gp", "Gaussian process (needs PyTorch)"],
];
const MAXIMISED = ["higher", "at_least"];

/** "minimise" or "maximise", as the server reads a KPI's `better_when`. */
export const directionOf = (kpi) => (MAXIMISED.includes(kpi?.better_when) ? "maximise" : "minimise");

/** A dimension of the request from the experiment form's axis: listed values are its choices. */
export function dimensionSpec(p, on, a) {
  const { values, ...spec } = axisSpec(p, on, a);
  return values ? { ...spec, choices: values } : spec;
}

/** The constraint of the request, or null: a KPI alone takes its threshold. */
export function constraintSpec(kpi, side, limit) {
  if (!kpi) return null;
  if (limit === "" || !Number.isFinite(Number(limit))) return { kpi };
  return { kpi, [side]: Number(limit) };
}

function Objectives({ kpis, chosen, onChange }) {
  return html`<fieldset class="field" aria-describedby="study-objectives-hint">
    <legend>Objectives</legend>
    ${kpis.map(
      (k) => html`<label class="choice"><input type="checkbox" id=${`study-objective-${k.name}`} checked=${chosen.includes(k.name)}
        onChange=${(e) => onChange(e.target.checked ? [...chosen, k.name] : chosen.filter((x) => x !== k.name))} />
        ${k.name} <span class="hint">(${directionOf(k)})</span></label>`
    )}
    <span id="study-objectives-hint" class="hint small">One: the best trial; two or more: the Pareto set.</span>
  </fieldset>`;
}

function Constraint({ kpis, value, onChange }) {
  const set = (change) => onChange({ ...value, ...change });
  const kpi = kpis.find((k) => k.name === value.kpi);
  return html`<div class="row design-row">
    <div class="field">
      <label for="study-constraint">Constraint <span class="hint">(optional)</span></label>
      <select id="study-constraint" value=${value.kpi} onChange=${(e) => set({ kpi: e.target.value })}>
        <option value="">(none)</option>
        ${kpis.map((k) => html`<option value=${k.name}>${k.name}</option>`)}
      </select>
    </div>
    ${value.kpi &&
    html`<div class="field">
        <label for="study-constraint-side">must be</label>
        <select id="study-constraint-side" value=${value.side} onChange=${(e) => set({ side: e.target.value })}>
          <option value="max">at most</option>
          <option value="min">at least</option>
        </select>
      </div>
      <div class="field">
        <label for="study-constraint-limit">Limit</label>
        <input id="study-constraint-limit" type="number" step="any" class="short" value=${value.limit}
          placeholder=${kpi?.threshold ?? ""} onInput=${(e) => set({ limit: e.target.value })} />
        <span class="hint small">empty: the KPI's threshold</span>
      </div>`}
  </div>`;
}

function NumberField({ id, label, value, onValue, min }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} type="number" min=${min} step="1" class="short" value=${value} onInput=${(e) => onValue(e.target.value)} />
  </div>`;
}

export function CreateStudy({ base, kpis, onCreated }) {
  const form = useAxesForm(base);
  const [objectives, setObjectives] = useState([]);
  const [constraint, setConstraint] = useState({ kpi: "", side: "max", limit: "" });
  const [sampler, setSampler] = useState("tpe");
  const [seed, setSeed] = useState("0");
  const [trials, setTrials] = useState("20");
  const [parallel, setParallel] = useState("1");

  const searched = form.ticked;
  const known = objectives.filter((o) => kpis.some((k) => k.name === o));

  const submit = (e) =>
    form.create(
      e,
      `${base}/studies`,
      () => ({
        name: form.name.trim(),
        base: form.baseSpec(),
        ...(searched.length ? { space: searched.map(({ p, on, a }) => dimensionSpec(p, on, a)) } : {}),
        objectives: known.map((kpi) => ({ kpi })),
        constraints: [constraintSpec(constraint.kpi, constraint.side, constraint.limit)].filter(Boolean),
        sampler,
        seed: Number(seed || 0),
        n_trials: Number(trials),
        parallel: Number(parallel || 1),
      }),
      onCreated
    );

  const ready = form.name.trim() && form.algoParams.ready && form.dataset && known.length && Number(trials) >= 1;
  return html`<section class="panel" aria-labelledby="study-create-title">
    <h2 id="study-create-title">New study</h2>
    <form onSubmit=${submit} novalidate data-testid="study-form">
      <${BaseFields} form=${form} prefix="study" hint="Its trials' scenarios are tagged name-0, name-1, …"
        tickHint="base values; tick those searched" verb="Search" />
      <p class="small muted" data-testid="study-space">${searched.length
        ? `Searching ${searched.map((x) => x.p.name).join(", ")}.`
        : "None ticked: every algorithm parameter with bounds or choices is searched."}</p>
      <h3>Goal</h3>
      <${Objectives} kpis=${kpis} chosen=${known} onChange=${setObjectives} />
      <${Constraint} kpis=${kpis} value=${constraint} onChange=${setConstraint} />
      <h3>Search</h3>
      <div class="row design-row">
        <div class="field">
          <label for="study-sampler">Sampler</label>
          <select id="study-sampler" value=${sampler} onChange=${(e) => setSampler(e.target.value)}>
            ${SAMPLERS.map(([k, label]) => html`<option value=${k}>${label}</option>`)}
          </select>
        </div>
        <${NumberField} id="study-seed" label="Seed" value=${seed} onValue=${setSeed} min="0" />
        <${NumberField} id="study-trials" label="Trials" value=${trials} onValue=${setTrials} min="1" />
        <${NumberField} id="study-parallel" label="Parallel" value=${parallel} onValue=${setParallel} min="1" />
      </div>
      <${FormError} form=${form} testid="study-form-error" />
      <button class="primary" type="submit" disabled=${form.busy || !ready}>Create study</button>
    </form>
  </section>`;
}
