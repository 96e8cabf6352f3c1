// The form that creates an experiment: a base (algorithm, dataset, parameter values),
// the axes that vary with their ranges or values, the design, and its point count.
import { html, useState } from "../vendor/htm-preact/standalone.module.js";
import { BaseFields, FormError, NUMERIC, useAxesForm } from "./createform.js";
import { formatNumber } from "./ui.js";

export const KINDS = [
  ["oat", "one at a time (OAT)"],
  ["grid", "grid"],
  ["random", "random"],
  ["lhs", "Latin hypercube (LHS)"],
];
const SAMPLED = ["random", "lhs"];
/** The server's default `max_experiment_scenarios` (the configuration may set it lower). */
export const DEFAULT_CAP = 1000;

/** An axis's explicit values from "a, b, c" (numbers and booleans as such). */
export function parseValues(p, text) {
  const parts = String(text || "")
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  return parts.map((v) => {
    if (NUMERIC.includes(p.type) && v !== "" && Number.isFinite(Number(v))) return Number(v);
    if (p.type === "boolean" && (v === "true" || v === "false")) return v === "true";
    return v;
  });
}

const given = (v) => v !== "" && v !== null && v !== undefined;

/** The axis of the request for parameter `p` (`on` algorithm or data), as the form has it. */
export function axisSpec(p, on, a) {
  const spec = { name: p.name };
  if (on === "data") spec.on = "data";
  const values = parseValues(p, a.values);
  if (values.length) spec.values = values;
  else if (NUMERIC.includes(p.type)) {
    if (given(a.low)) spec.min = Number(a.low);
    if (given(a.high)) spec.max = Number(a.high);
  }
  return spec;
}

/** How many values a grid takes on one axis, or `{why}` when the form cannot tell. */
export function gridSize(p, a) {
  const values = parseValues(p, a.values);
  if (values.length) return values.length;
  if (p.type === "integer") {
    const low = Number(given(a.low) ? a.low : p.min);
    const high = Number(given(a.high) ? a.high : p.max);
    if (!given(a.low) && !given(p.min)) return { why: `${p.name} needs a low end` };
    if (!given(a.high) && !given(p.max)) return { why: `${p.name} needs a high end` };
    return Math.max(0, Math.floor(high) - Math.ceil(low) + 1);
  }
  if (p.type === "enum") return (p.choices || []).length;
  if (p.type === "boolean") return 2;
  if (p.type === "float") return { why: `a grid needs values for ${p.name} (a float range)` };
  return { why: `${p.name} needs values` };
}

/**
 * The design's point count as the server will count it: the product of the axes'
 * value counts (grid), 1 + 2 × axes (OAT), `n` (random, LHS); `{why}` when unknown.
 * `datasets`: how many datasets a dataset axis takes (0: the dataset does not vary).
 */
export function pointCount(kind, axes, n, datasets = 0) {
  if (!axes.length && !datasets) return { why: "choose at least one parameter to vary" };
  if (datasets && kind === "oat") return { why: "one at a time cannot vary the dataset; choose grid, random or LHS" };
  if (kind === "oat") return 1 + 2 * axes.length;
  if (SAMPLED.includes(kind)) return Number.isInteger(n) && n >= 1 ? n : { why: "give n, the number of points" };
  let total = datasets || 1;
  for (const { p, a } of axes) {
    const size = gridSize(p, a);
    if (typeof size !== "number") return size;
    total *= size;
  }
  return total;
}

export function CreateExperiment({ base, onCreated }) {
  const form = useAxesForm(base);
  const { datasets, dataset } = form;
  const [kind, setKind] = useState("oat");
  const [n, setN] = useState("20");
  const [seed, setSeed] = useState("0");
  const [cap, setCap] = useState(String(DEFAULT_CAP));
  // The dataset axis: whether the dataset varies, and over which keys.
  const [dsAxis, setDsAxis] = useState({ vary: false, keys: [] });

  const varied = form.ticked;
  const sampled = SAMPLED.includes(kind);
  const dsKeys = dsAxis.vary ? dsAxis.keys.filter((k) => datasets.includes(k)) : [];
  const dsMissing = dsAxis.vary && !dsKeys.length;
  const count = dsMissing
    ? { why: "pick the datasets to run on" }
    : pointCount(kind, varied, n === "" ? null : Number(n), dsKeys.length);
  const capNumber = Number(cap) >= 1 ? Math.floor(Number(cap)) : DEFAULT_CAP;
  const over = typeof count === "number" && count > capNumber;

  function body() {
    const design = { kind, axes: varied.map(({ p, on, a }) => axisSpec(p, on, a)) };
    if (dsKeys.length) design.axes.unshift({ on: "dataset", values: dsKeys });
    if (sampled) {
      design.n = Number(n);
      design.seed = Number(seed || 0);
    }
    return { name: form.name.trim(), base: form.baseSpec(), design, max_scenarios: capNumber };
  }
  const submit = (e) => form.create(e, `${base}/experiments`, body, onCreated);

  const datasetAxis = html`<div class="row">
      <input type="checkbox" id="exp-dataset-vary" checked=${dsAxis.vary}
        onChange=${(e) => setDsAxis((old) => ({ vary: e.target.checked, keys: old.keys.length ? old.keys : dataset ? [dataset] : [] }))} />
      <label for="exp-dataset-vary">Vary the dataset</label>
    </div>
    ${dsAxis.vary &&
    html`<label for="exp-dataset-values">Datasets to run on</label>
      <select id="exp-dataset-values" multiple size=${Math.min(6, Math.max(2, datasets.length))} aria-describedby="exp-dataset-values-hint"
        onChange=${(e) => setDsAxis({ vary: true, keys: [...e.target.selectedOptions].map((o) => o.value) })}>
        ${datasets.map((k) => html`<option value=${k} selected=${dsAxis.keys.includes(k)}>${k}</option>`)}
      </select>
      <span id="exp-dataset-values-hint" class="hint small">Each point runs on each chosen dataset (latest version); the dataset above declares the data parameters.</span>`}`;

  const ready = form.name.trim() && form.algoParams.ready && dataset && (varied.length || dsKeys.length);
  return html`<section class="panel" aria-labelledby="exp-create-title">
    <h2 id="exp-create-title">New experiment</h2>
    <form onSubmit=${submit} novalidate data-testid="experiment-form">
      <${BaseFields} form=${form} prefix="exp" hint="Its scenarios are tagged name-1, name-2, …"
        datasetExtra=${datasetAxis} tickHint="base values; tick those that vary" verb="Vary" />
      <h3>Design</h3>
      <div class="row design-row">
        <div class="field">
          <label for="exp-kind">Kind</label>
          <select id="exp-kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
            ${KINDS.map(([k, label]) => html`<option value=${k}>${label}</option>`)}
          </select>
        </div>
        ${sampled &&
        html`<div class="field">
            <label for="exp-n">Points (n)</label>
            <input id="exp-n" type="number" min="1" step="1" class="short" value=${n} onInput=${(e) => setN(e.target.value)} />
          </div>
          <div class="field">
            <label for="exp-seed">Seed</label>
            <input id="exp-seed" type="number" min="0" step="1" class="short" value=${seed} onInput=${(e) => setSeed(e.target.value)} />
          </div>`}
        <div class="field">
          <label for="exp-cap">Cap <span class="hint">(scenarios)</span></label>
          <input id="exp-cap" type="number" min="1" step="1" class="short" value=${cap} onInput=${(e) => setCap(e.target.value)}
            title="The most scenarios it may create" />
        </div>
      </div>
      <p data-testid="point-count" class=${over ? "error-text" : ""} aria-live="polite">
        ${typeof count === "number"
          ? `${formatNumber(count)} point${count === 1 ? "" : "s"} (cap ${formatNumber(capNumber)})${over ? ": more than the cap; narrow the design or raise the cap" : ""}`
          : `Points: ${count.why}`}
      </p>
      <${FormError} form=${form} testid="experiment-form-error" />
      <button class="primary" type="submit" disabled=${form.busy || !ready || dsMissing || over}>Create experiment</button>
    </form>
  </section>`;
}
