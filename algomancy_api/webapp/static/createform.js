// What the forms that create an experiment and a study share: a name, a dataset and an
// algorithm with their parameters' base values, each of which may be ticked as an axis
// (with its range or values); the request's `base`; and the POST, whose refusal is
// shown next to the form (at a parameter's field when the server names one).
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, seg } from "./api.js";
import { ParameterField, wireValues } from "./params.js";
import { useChoices, useParameters } from "./formhooks.js";
import { Notice } from "./ui.js";

export const NUMERIC = ["integer", "float"];
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

/**
 * The state of a create form at session `base`: its name, choices, parameters and
 * axes (cleared when the algorithm or dataset changes). `ticked`: the parameters
 * ticked as axes, each `{p, on, key, a}`; `baseSpec()`: the request's `base`;
 * `create(e, url, body, onCreated)`: the POST of `body` (the name is cleared after it).
 */
export function useAxesForm(base) {
  const [name, setName] = useState("");
  const [axes, setAxes] = useState({});
  const [formError, setFormError] = useState(null);
  const [fieldError, setFieldError] = useState({});
  const [busy, setBusy] = useState(false);

  const choices = useChoices(base, setFormError);
  const { algo, dataset } = choices;
  const algoParams = useParameters(algo ? `${base}/algorithms/${seg(algo)}/parameters` : null);
  const dataParams = useParameters(dataset ? `${base}/data/${seg(dataset)}/parameters` : null);
  useEffect(() => setAxes({}), [algo, dataset]);

  const all = [
    ...algoParams.params.map((p) => ({ p, on: "algorithm", key: `algorithm:${p.name}` })),
    ...dataParams.params.map((p) => ({ p, on: "data", key: `data:${p.name}` })),
  ];
  const ticked = all.filter((x) => axes[x.key]?.vary).map((x) => ({ ...x, a: axes[x.key] }));
  const baseSpec = () => ({
    algo_name: algo,
    dataset_key: dataset,
    algo_params: wireValues(algoParams.params, algoParams.values),
    ...(dataParams.params.length ? { data_params: wireValues(dataParams.params, dataParams.values) } : {}),
  });

  async function create(e, url, makeBody, onCreated) {
    e.preventDefault();
    setFormError(null);
    setFieldError({});
    const body = makeBody();
    setBusy(true);
    try {
      const created = await api.post(url, body);
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

  /** The field of parameter `x` (one of `all`), its tick saying `verb`. */
  const field = (verb) => (x) => {
    const params = x.on === "data" ? dataParams : algoParams;
    return html`<${AxisField} key=${x.key} p=${x.p} on=${x.on} verb=${verb}
      value=${params.values[x.p.name]}
      onValue=${(v) => params.setValues((old) => ({ ...old, [x.p.name]: v }))}
      axis=${axes[x.key] || NO_AXIS} onAxis=${(a) => setAxes((old) => ({ ...old, [x.key]: a }))}
      error=${fieldError[x.p.name]} />`;
  };

  const error = formError || algoParams.error || dataParams.error;
  return { ...choices, name, setName, busy, error, algoParams, dataParams, all, ticked, baseSpec, create, field };
}

/** A `.field` with a labelled select of `options` (`children` after the select). */
export function SelectField({ id, label, value, options, onValue, children }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onValue(e.target.value)}>
      ${options.map((k) => html`<option value=${k}>${k}</option>`)}
    </select>
    ${children}
  </div>`;
}

/**
 * The top of the form (`form` from `useAxesForm`): the name (ids `${prefix}-name`,
 * `hint` under it), the dataset (`datasetExtra` in its field), the algorithm, and the
 * parameters (`tickHint` saying what a tick does) ticked with `verb`.
 */
export function BaseFields({ form, prefix, hint, datasetExtra, tickHint, verb }) {
  const field = form.field(verb);
  return html`<div class="field">
      <label for=${`${prefix}-name`}>Name</label>
      <input id=${`${prefix}-name`} value=${form.name} onInput=${(e) => form.setName(e.target.value)} required />
      <span class="hint small">${hint}</span>
    </div>
    <${SelectField} id=${`${prefix}-dataset`} label="Dataset" value=${form.dataset} options=${form.datasets}
      onValue=${form.setDataset}>${datasetExtra}<//>
    <${SelectField} id=${`${prefix}-algorithm`} label="Algorithm" value=${form.algo} options=${form.algorithms}
      onValue=${form.setAlgo} />
    ${form.algoParams.params.length > 0 && html`<h3>Parameters <span class="hint small">(${tickHint})</span></h3>`}
    ${form.all.filter((x) => x.on === "algorithm").map(field)}
    ${form.dataParams.params.length > 0 && html`<h3>Data parameters</h3>`}
    ${form.all.filter((x) => x.on === "data").map(field)}`;
}

/** The form's refusal or failed read, where the page says it (`testid`). */
export function FormError({ form, testid }) {
  return html`<div class="form-error" aria-live="polite" data-testid=${testid}><${Notice} kind="error">${form.error}<//></div>`;
}
