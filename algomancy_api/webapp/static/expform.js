// The form that creates an experiment: a base (algorithm, dataset, parameter values),
// the axes that vary with their ranges or values, the design, and its point count.
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, seg } from "./api.js";
import { ParameterField, wireValues } from "./params.js";
import { useChoices, useParameters } from "./formhooks.js";
import { Notice, formatNumber } from "./ui.js";

export const KINDS = [
  ["oat", "one at a time (OAT)"],
  ["grid", "grid"],
  ["random", "random"],
  ["lhs", "Latin hypercube (LHS)"],
];
const SAMPLED = ["random", "lhs"];
const NUMERIC = ["integer", "float"];
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

export const NO_AXIS = { vary: false, low: "", high: "", values: "" };

/**
 * One parameter: its base value, whether it varies, and its range or values
 * (`verb` names what ticking it does: the studies form says "Search").
 */
export function AxisField({ p, on, value, onValue, axis, onAxis, error, verb = "Vary" }) {
  const prefix = on === "data" ? "exp-data-" : "exp-param-";
  const id = `${prefix}${p.name}`;
  const set = (change) => onAxis({ ...axis, ...change });
  const numeric = NUMERIC.includes(p.type);
  return html`<div class="axis ${axis.vary ? "varied" : ""}" data-axis=${p.name}>
    <${ParameterField} p=${p} value=${value} error=${error} idPrefix=${prefix} onChange=${onValue} />
    <div class="row">
      <input type="checkbox" id=${`${id}-vary`} checked=${axis.vary} onChange=${(e) => set({ vary: e.target.checked })} />
      <label for=${`${id}-vary`}>${verb} ${p.name}</label>
    </div>
    ${axis.vary &&
    html`<div class="row axis-range">
      ${numeric &&
      html`<label for=${`${id}-low`}>Low</label>
        <input id=${`${id}-low`} type="number" step="any" class="short" value=${axis.low} placeholder=${p.min ?? ""}
          onInput=${(e) => set({ low: e.target.value })} />
        <label for=${`${id}-high`}>High</label>
        <input id=${`${id}-high`} type="number" step="any" class="short" value=${axis.high} placeholder=${p.max ?? ""}
          onInput=${(e) => set({ high: e.target.value })} />`}
      <label for=${`${id}-values`}>Values</label>
      <input id=${`${id}-values`} value=${axis.values} placeholder=${p.choices ? p.choices.join(", ") : "a, b, c"}
        onInput=${(e) => set({ values: e.target.value })} aria-describedby=${`${id}-values-hint`} />
      <span id=${`${id}-values-hint`} class="hint small">${numeric ? "comma-separated; instead of the range" : "comma-separated; default: every choice"}</span>
    </div>`}
  </div>`;
}

export function CreateExperiment({ base, onCreated }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState("oat");
  const [n, setN] = useState("20");
  const [seed, setSeed] = useState("0");
  const [cap, setCap] = useState(String(DEFAULT_CAP));
  const [axes, setAxes] = useState({});
  // The dataset axis: whether the dataset varies, and over which keys.
  const [dsAxis, setDsAxis] = useState({ vary: false, keys: [] });
  const [formError, setFormError] = useState(null);
  const [fieldError, setFieldError] = useState({});
  const [busy, setBusy] = useState(false);

  const { algorithms, algo, setAlgo, datasets, dataset, setDataset } = useChoices(base, setFormError);
  const algoParams = useParameters(algo ? `${base}/algorithms/${seg(algo)}/parameters` : null);
  const dataParams = useParameters(dataset ? `${base}/data/${seg(dataset)}/parameters` : null);
  useEffect(() => setAxes({}), [algo, dataset]);

  const all = [
    ...algoParams.params.map((p) => ({ p, on: "algorithm", key: `algorithm:${p.name}` })),
    ...dataParams.params.map((p) => ({ p, on: "data", key: `data:${p.name}` })),
  ];
  const varied = all.filter((x) => axes[x.key]?.vary).map((x) => ({ ...x, a: axes[x.key] }));
  const sampled = SAMPLED.includes(kind);
  const dsKeys = dsAxis.vary ? dsAxis.keys.filter((k) => datasets.includes(k)) : [];
  const dsMissing = dsAxis.vary && !dsKeys.length;
  const count = dsMissing
    ? { why: "pick the datasets to run on" }
    : pointCount(kind, varied, n === "" ? null : Number(n), dsKeys.length);
  const capNumber = Number(cap) >= 1 ? Math.floor(Number(cap)) : DEFAULT_CAP;
  const over = typeof count === "number" && count > capNumber;

  async function submit(e) {
    e.preventDefault();
    setFormError(null);
    setFieldError({});
    const design = { kind, axes: varied.map(({ p, on, a }) => axisSpec(p, on, a)) };
    if (dsKeys.length) design.axes.unshift({ on: "dataset", values: dsKeys });
    if (sampled) {
      design.n = Number(n);
      design.seed = Number(seed || 0);
    }
    const body = {
      name: name.trim(),
      base: {
        algo_name: algo,
        dataset_key: dataset,
        algo_params: wireValues(algoParams.params, algoParams.values),
        ...(dataParams.params.length ? { data_params: wireValues(dataParams.params, dataParams.values) } : {}),
      },
      design,
      max_scenarios: capNumber,
    };
    setBusy(true);
    try {
      const created = await api.post(`${base}/experiments`, body);
      setName("");
      onCreated(created);
    } catch (err) {
      // The server's words, next to the form; at a parameter's field when it names one.
      setFormError(`${err.status ? `${err.status}: ` : ""}${err.message}`);
      if (err.parameter) setFieldError({ [err.parameter]: err.message });
    } finally {
      setBusy(false);
    }
  }

  const field = (x) => html`<${AxisField} key=${x.key} p=${x.p} on=${x.on}
    value=${(x.on === "data" ? dataParams : algoParams).values[x.p.name]}
    onValue=${(v) => (x.on === "data" ? dataParams : algoParams).setValues((old) => ({ ...old, [x.p.name]: v }))}
    axis=${axes[x.key] || NO_AXIS} onAxis=${(a) => setAxes((old) => ({ ...old, [x.key]: a }))}
    error=${fieldError[x.p.name]} />`;

  return html`<section class="panel" aria-labelledby="exp-create-title">
    <h2 id="exp-create-title">New experiment</h2>
    <form onSubmit=${submit} novalidate data-testid="experiment-form">
      <div class="field">
        <label for="exp-name">Name</label>
        <input id="exp-name" value=${name} onInput=${(e) => setName(e.target.value)} required />
        <span class="hint small">Its scenarios are tagged name-1, name-2, …</span>
      </div>
      <div class="field">
        <label for="exp-dataset">Dataset</label>
        <select id="exp-dataset" value=${dataset} onChange=${(e) => setDataset(e.target.value)}>
          ${datasets.map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
        <div class="row">
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
          <span id="exp-dataset-values-hint" class="hint small">Each point runs on each chosen dataset (latest version); the dataset above declares the data parameters.</span>`}
      </div>
      <div class="field">
        <label for="exp-algorithm">Algorithm</label>
        <select id="exp-algorithm" value=${algo} onChange=${(e) => setAlgo(e.target.value)}>
          ${algorithms.map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </div>
      ${algoParams.params.length > 0 && html`<h3>Parameters <span class="hint small">(base values; tick those that vary)</span></h3>`}
      ${all.filter((x) => x.on === "algorithm").map(field)}
      ${dataParams.params.length > 0 && html`<h3>Data parameters</h3>`}
      ${all.filter((x) => x.on === "data").map(field)}
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
      <div class="form-error" aria-live="polite" data-testid="experiment-form-error"><${Notice} kind="error">${formError || algoParams.error || dataParams.error}<//></div>
      <button class="primary" type="submit" disabled=${busy || !name.trim() || !algoParams.ready || !dataset || (!varied.length && !dsKeys.length) || dsMissing || over}>Create experiment</button>
    </form>
  </section>`;
}
