// How a KPI value reads: a quantity in the unit the server chose (`display`), a
// binary KPI as pass or fail with its details, other values as numbers.
import { html } from "../vendor/htm-preact/standalone.module.js";
import { formatNumber } from "./ui.js";

export const isBinary = (k) => k && k.kind === "binary";

/** Plain text of a KPI's value (as the table shows it). */
export function kpiText(k) {
  if (!k || k.value === null || k.value === undefined) return "–";
  if (isBinary(k)) return k.passed ? "pass" : "fail";
  if (k.display) return k.display.text;
  return formatNumber(k.value);
}

/** A KPI's value as a cell's content: a quantity with its raw value as a tooltip. */
export function KpiValue({ kpi }) {
  if (!kpi || kpi.value === null || kpi.value === undefined) return html`<span>–</span>`;
  if (isBinary(kpi)) {
    return html`<span class=${kpi.passed ? "kpi-pass" : "kpi-fail"} data-passed=${kpi.passed ? "true" : "false"}>
      ${kpi.passed ? "✓ pass" : "✗ fail"}</span>${kpi.details && html`<span class="kpi-details small"> ${kpi.details}</span>`}`;
  }
  if (kpi.display) {
    return html`<span title=${`${formatNumber(kpi.value)} ${kpi.unit}`} data-raw=${kpi.value}>${kpi.display.text}</span>`;
  }
  return html`<span>${formatNumber(kpi.value)}</span>`;
}
