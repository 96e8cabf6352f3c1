// The create form's parameter file: a JSON file of parameter values fills the
// fields (the server still checks them when the scenario is created).
import { html, useState } from "../vendor/htm-preact/standalone.module.js";
import { initialValue } from "./params.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Form values from `values` (parameter name → value as the API takes it) for the
 * descriptors `list`; throws naming the parameters `list` does not have.
 */
export function formValues(list, values, what) {
  const known = new Map(list.map((p) => [p.name, p]));
  const unknown = Object.keys(values).filter((name) => !known.has(name));
  if (unknown.length) {
    const has = list.map((p) => p.name).join(", ") || "none";
    throw new Error(`unknown ${what} ${unknown.join(", ")} (there are: ${has})`);
  }
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, initialValue({ ...known.get(name), value: v })]));
}

/**
 * A file either `{"algo_params": {...}, "data_params": {...}}` (the create body's
 * names) or a flat object of the algorithm's parameters.
 */
export function ParameterFile({ params, dataParams, onValues, onDataValues }) {
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(null);
  async function chosen(e) {
    const file = e.target.files[0];
    e.target.value = "";
    setError(null);
    setLoaded(null);
    if (!file) return;
    try {
      let body;
      try {
        body = JSON.parse(await file.text());
      } catch (err) {
        throw new Error(`not JSON: ${err.message}`);
      }
      if (!isObject(body)) throw new Error("expected a JSON object of parameter values");
      const nested = "algo_params" in body || "data_params" in body;
      const algo = nested ? body.algo_params ?? {} : body;
      const data = nested ? body.data_params ?? {} : {};
      if (!isObject(algo) || !isObject(data)) throw new Error("algo_params and data_params must be objects");
      const values = formValues(params, algo, "parameter(s)");
      const dataValues = formValues(dataParams, data, "data parameter(s)");
      onValues(values);
      onDataValues(dataValues);
      setLoaded(`Loaded ${Object.keys(values).length + Object.keys(dataValues).length} value(s) from ${file.name}.`);
    } catch (err) {
      setError(`${file.name}: ${err.message}`);
    }
  }
  return html`<div class="field" data-testid="parameter-file">
    <label for="parameter-file">Load parameters from a JSON file</label>
    <input id="parameter-file" type="file" accept=".json,application/json" onChange=${chosen}
      aria-describedby="parameter-file-hint" />
    <span id="parameter-file-hint" class="hint">An object of parameter values, e.g. <code>{"seed": 7}</code>, or <code>{"algo_params": {…}, "data_params": {…}}</code>.</span>
    ${loaded && html`<span class="small" role="status">${loaded}</span>`}
    ${error && html`<span class="error" role="alert">${error}</span>`}
  </div>`;
}
