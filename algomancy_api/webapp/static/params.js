// A form field for each parameter descriptor, for every parameter type of the core.
import { html } from "../vendor/htm-preact/standalone.module.js";

/** The form's starting value for a descriptor (its current value, else its default). */
export function initialValue(p) {
  const v = p.value !== undefined && p.value !== null ? p.value : p.default;
  switch (p.type) {
    case "boolean":
      return Boolean(v);
    case "multi_enum":
      return Array.isArray(v) ? v : [];
    case "interval":
      return { start: toInput(v?.start, p.kind), end: toInput(v?.end, p.kind) };
    case "date":
    case "datetime":
      return toInput(v, p.type);
    case "integer":
    case "float":
      return v === null || v === undefined ? "" : String(v);
    default:
      return v === null || v === undefined ? "" : String(v);
  }
}

function toInput(value, kind) {
  if (!value) return "";
  if (kind === "datetime") return String(value).slice(0, 19); // datetime-local: no offset
  return String(value).slice(0, 10);
}

/** The JSON value to send, or undefined to leave the parameter at its default. */
export function wireValue(p, v) {
  switch (p.type) {
    case "integer": {
      if (v === "") return undefined;
      const n = Number(v);
      return Number.isFinite(n) ? n : v;
    }
    case "float": {
      if (v === "") return undefined;
      const n = Number(v);
      return Number.isFinite(n) ? n : v;
    }
    case "boolean":
      return Boolean(v);
    case "multi_enum":
      return v;
    case "interval":
      return v.start || v.end ? { start: v.start || null, end: v.end || null } : undefined;
    case "date":
    case "datetime":
    case "enum":
      return v === "" ? undefined : v;
    default:
      return v;
  }
}

/** The JSON object of `values` to send for the descriptors `params` (defaults left out). */
export function wireValues(params, values) {
  const out = {};
  for (const p of params) {
    const v = wireValue(p, values[p.name]);
    if (v !== undefined) out[p.name] = v;
  }
  return out;
}

function hint(p) {
  const parts = [];
  if (p.min !== null && p.min !== undefined) parts.push(`min ${p.min}`);
  if (p.max !== null && p.max !== undefined) parts.push(`max ${p.max}`);
  if (p.min_length != null) parts.push(`at least ${p.min_length} characters`);
  if (p.max_length != null) parts.push(`at most ${p.max_length} characters`);
  if (p.default !== null && p.default !== undefined && typeof p.default !== "object") parts.push(`default ${p.default}`);
  return [p.description, parts.join(", ")].filter(Boolean).join(" — ");
}

/**
 * One labelled input for parameter `p`; `error` is the server's message for it.
 * `idPrefix` keeps the ids of two forms apart (algorithm and data parameters).
 */
export function ParameterField({ p, value, onChange, error, idPrefix = "param-" }) {
  const id = `${idPrefix}${p.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint(p) ? hintId : null, error ? errorId : null].filter(Boolean).join(" ") || null;
  const common = {
    id,
    name: p.name,
    "aria-invalid": error ? "true" : null,
    "aria-describedby": describedBy,
  };
  const bounds = { min: p.min ?? null, max: p.max ?? null };
  const footer = html`
    ${hint(p) && html`<span id=${hintId} class="hint">${hint(p)}</span>`}
    ${error && html`<span id=${errorId} class="error" role="alert">${error}</span>`}`;
  const label = html`${p.name}${p.required ? "" : " (optional)"} <span class="hint">${p.type}</span>`;

  switch (p.type) {
    case "integer":
    case "float":
      return html`<div class="field" data-param=${p.name}>
        <label for=${id}>${label}</label>
        <input ...${common} ...${bounds} type="number" step=${p.type === "integer" ? "1" : "any"}
          inputmode=${p.type === "integer" ? "numeric" : "decimal"}
          value=${value} onInput=${(e) => onChange(e.target.value)} />
        ${footer}</div>`;
    case "boolean":
      return html`<div class="field" data-param=${p.name}>
        <div class="row"><input ...${common} type="checkbox" checked=${value}
          onChange=${(e) => onChange(e.target.checked)} /><label for=${id}>${label}</label></div>
        ${footer}</div>`;
    case "enum":
      return html`<div class="field" data-param=${p.name}>
        <label for=${id}>${label}</label>
        <select ...${common} value=${value} onChange=${(e) => onChange(e.target.value)}>
          ${!p.required && html`<option value="">(default)</option>`}
          ${(p.choices || []).map((c) => html`<option value=${c}>${c}</option>`)}
        </select>${footer}</div>`;
    case "multi_enum":
      return html`<fieldset class="field" data-param=${p.name} aria-describedby=${describedBy}
        aria-invalid=${error ? "true" : null}>
        <legend>${label}</legend>
        <div>${(p.choices || []).map(
          (c, i) => html`<label class="choice"><input type="checkbox" name=${p.name} id=${`${id}-${i}`}
            checked=${value.includes(c)}
            onChange=${(e) => onChange(e.target.checked ? [...value, c] : value.filter((x) => x !== c))} />${c}</label>`
        )}</div>${footer}</fieldset>`;
    case "date":
    case "datetime":
      return html`<div class="field" data-param=${p.name}>
        <label for=${id}>${label}</label>
        <input ...${common} type=${p.type === "date" ? "date" : "datetime-local"} step=${p.type === "datetime" ? "1" : null}
          min=${toInput(p.min, p.type) || null} max=${toInput(p.max, p.type) || null}
          value=${value} onInput=${(e) => onChange(e.target.value)} />${footer}</div>`;
    case "interval": {
      const kind = p.kind === "datetime" ? "datetime-local" : "date";
      const lim = { min: toInput(p.min, p.kind) || null, max: toInput(p.max, p.kind) || null };
      return html`<fieldset class="field" data-param=${p.name} aria-describedby=${describedBy}
        aria-invalid=${error ? "true" : null}>
        <legend>${label}</legend>
        <div class="row">
          <label for=${`${id}-start`}>Start</label>
          <input id=${`${id}-start`} type=${kind} ...${lim} step=${kind === "date" ? null : "1"} value=${value.start}
            aria-invalid=${error ? "true" : null} onInput=${(e) => onChange({ ...value, start: e.target.value })} />
          <label for=${`${id}-end`}>End</label>
          <input id=${`${id}-end`} type=${kind} ...${lim} step=${kind === "date" ? null : "1"} value=${value.end}
            aria-invalid=${error ? "true" : null} onInput=${(e) => onChange({ ...value, end: e.target.value })} />
        </div>${footer}</fieldset>`;
    }
    default:
      return html`<div class="field" data-param=${p.name}>
        <label for=${id}>${label}</label>
        <input ...${common} type="text" value=${value} onInput=${(e) => onChange(e.target.value)} />
        ${footer}</div>`;
  }
}
