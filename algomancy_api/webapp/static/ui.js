// Shared pieces: notices, status badges, progress, and the paged table of a frame.
import { html, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api } from "./api.js";

let currentSession = null;
/** The session the app shows; every link is made for it (the shell sets it). */
export function setLinkSession(id) {
  currentSession = id;
}

/**
 * The link to a page of a session (hash routing: the server serves one page at `/`):
 * `#/sessions/{session}/{page}[/{arg}]`, so that a link names its session and can be
 * shared. The sessions page is `#/sessions`.
 */
export function link(page, arg, session = currentSession) {
  if (page === "sessions" || !session) return `#/${page}${arg ? "/" + encodeURIComponent(arg) : ""}`;
  return `#/sessions/${encodeURIComponent(session)}/${page}${arg ? "/" + encodeURIComponent(arg) : ""}`;
}

/** Navigate to a page of the current session. */
export function go(page, arg) {
  window.location.hash = link(page, arg);
}

export function Notice({ kind = "info", children }) {
  if (!children) return null;
  return html`<div class="notice ${kind}" role=${kind === "error" ? "alert" : "status"}>${children}</div>`;
}

export function StatusBadge({ status }) {
  return html`<span class="badge ${status}" data-status=${status}>${status}</span>`;
}

export function Progress({ value, label }) {
  const pct = Math.round((value || 0) * 100);
  return html`<progress max="100" value=${pct} aria-label=${label || "progress"}>${pct}%</progress>
    <span class="small">${pct}%</span>`;
}

/** A number or date of a frame cell, readable. */
export function formatCell(value, type) {
  if (value === null || value === undefined) return "";
  if (type === "datetime" && typeof value === "number") return new Date(value).toISOString().replace(".000Z", "Z");
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toLocaleString(undefined, { maximumFractionDigits: 6 });
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toLocaleString(undefined, { maximumFractionDigits: 4 });
}

const PAGE_SIZES = [25, 50, 100, 250];

/**
 * One page of a table from a frame route (`path` + `?offset&limit`); the whole
 * table is never in the page.
 */
export function FrameTable({ path, caption }) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(50);
  const [frame, setFrame] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => setOffset(0), [path]);
  useEffect(() => {
    let live = true;
    setError(null);
    api
      .get(`${path}?offset=${offset}&limit=${limit}`)
      .then((f) => live && setFrame(f))
      .catch((e) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [path, offset, limit]);
  if (error) return html`<${Notice} kind="error">${error}<//>`;
  if (!frame) return html`<p class="muted">Loading…</p>`;
  const total = frame.source?.context?.total_rows ?? frame.rows.length;
  const fields = frame.fields || frame.columns.map((c) => ({ key: c, label: c, type: "string" }));
  const last = Math.min(offset + frame.rows.length, total);
  return html`<div>
    <div class="pager">
      <button onClick=${() => setOffset(Math.max(0, offset - limit))} disabled=${offset === 0}>Previous</button>
      <span aria-live="polite">Rows ${total ? offset + 1 : 0}–${last} of ${total}</span>
      <button onClick=${() => setOffset(offset + limit)} disabled=${last >= total}>Next</button>
      <label class="small">Rows per page
        <select value=${limit} onChange=${(e) => { setLimit(Number(e.target.value)); setOffset(0); }}>
          ${PAGE_SIZES.map((n) => html`<option value=${n}>${n}</option>`)}
        </select>
      </label>
    </div>
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">${caption}</caption>
        <thead><tr>${fields.map((f) => html`<th scope="col" class=${f.type === "number" ? "num" : ""}>${f.label}</th>`)}</tr></thead>
        <tbody>
          ${frame.rows.map(
            (row) => html`<tr>${fields.map((f) => html`<td class=${f.type === "number" ? "num" : ""}>${formatCell(row[f.key], f.type)}</td>`)}</tr>`
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}

/**
 * The `actions` of a `TableTabs` whose tables can be downloaded: the table's size and
 * a CSV and an XLSX button, each calling `save(name, format)`.
 */
export function downloads(save) {
  return (t) => html`<div class="row small">
    <span>${t.rows} rows, ${t.columns.length} columns.</span>
    <button onClick=${() => save(t.name, "csv")}>Download ${t.name} as CSV</button>
    <button onClick=${() => save(t.name, "xlsx")}>Download ${t.name} as XLSX</button>
  </div>`;
}

/** Tabs over a list of tables, each shown with FrameTable. */
export function TableTabs({ tables, framePath, label, actions }) {
  const [current, setCurrent] = useState(tables[0]?.name);
  useEffect(() => {
    if (!tables.some((t) => t.name === current)) setCurrent(tables[0]?.name);
  }, [tables]);
  if (!tables.length) return html`<p class="muted">No tables.</p>`;
  const table = tables.find((t) => t.name === current) || tables[0];
  const index = tables.indexOf(table);
  // The ARIA tabs pattern: one tab in the Tab order, arrow keys move between tabs.
  function onKeyDown(e) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    const to = e.key === "Home" ? 0 : e.key === "End" ? tables.length - 1 : step ? (index + step + tables.length) % tables.length : null;
    if (to === null) return;
    e.preventDefault();
    setCurrent(tables[to].name);
    e.currentTarget.querySelectorAll('[role="tab"]')[to].focus();
  }
  const panelId = `panel-${label.replace(/\W+/g, "-")}`;
  return html`<div>
    <div class="tabs" role="tablist" aria-label=${label} onKeyDown=${onKeyDown}>
      ${tables.map(
        (t) => html`<button role="tab" aria-selected=${t.name === table.name ? "true" : "false"}
          aria-controls=${panelId} tabindex=${t.name === table.name ? "0" : "-1"}
          onClick=${() => setCurrent(t.name)}>${t.name} <span class="small">(${t.rows})</span></button>`
      )}
    </div>
    <div role="tabpanel" id=${panelId} aria-label=${`${label}: ${table.name}`}>
      ${actions ? actions(table) : null}
      <${FrameTable} path=${framePath(table.name)} caption=${`${label}: ${table.name}`} />
    </div>
  </div>`;
}
