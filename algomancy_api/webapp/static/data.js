// Data: datasets, the ETL upload and its messages, table previews, derive, delete, download.
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, debounced, download, followEvents, listOf, seg, sessionEnds } from "./api.js";
import { Notice, TableTabs, downloads } from "./ui.js";
import { DatasetFileActions, DatasetJsonUpload } from "./datasetfile.js";

/** Dataset changes (by any client) read the list again, at most this often (ms). */
const RELOAD_MS = 250;
const RELOADS = ["open", "reset", "dataset.added", "dataset.replaced", "dataset.deleted"];

function EtlMessages({ result }) {
  if (!result) return null;
  const messages = result.messages || [];
  return html`<div data-testid="etl-result">
    <${Notice} kind=${result.success ? "ok" : "error"}>
      ${result.success
        ? `Loaded dataset "${result.dataset_name}"${result.dataset_version ? ` as version ${result.dataset_version}` : ""}.`
        : `The upload was refused: ${messages.filter((m) => m.severity === "error" || m.severity === "critical").length} error(s). Nothing was stored.`}
    <//>
    ${messages.length > 0 &&
    html`<div class="table-wrap"><table aria-label="Validation messages">
      <thead><tr><th scope="col">Severity</th><th scope="col">Table</th><th scope="col">Column</th><th scope="col" class="num">Row</th><th scope="col">Message</th></tr></thead>
      <tbody>${messages.map(
        (m) => html`<tr>
          <td><span class="badge ${m.severity}">${m.severity}</span></td>
          <td>${m.table ?? ""}</td><td>${m.column ?? ""}</td>
          <td class="num">${m.row ?? ""}</td><td>${m.message}</td>
        </tr>`
      )}</tbody>
    </table></div>`}
  </div>`;
}

function Upload({ base, onDone }) {
  const [name, setName] = useState("");
  const [files, setFiles] = useState([]);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    const form = new FormData();
    form.append("dataset_name", name.trim());
    for (const f of files) form.append("files", f, f.name);
    try {
      const body = await api.upload(`${base}/etl`, form);
      setResult(body);
      if (body.success) onDone(body.dataset_name);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="panel" aria-labelledby="upload-title">
    <h2 id="upload-title">Upload files</h2>
    <form onSubmit=${submit} class="row" style="align-items: flex-end; gap: 16px">
      <div class="field">
        <label for="etl-name">Dataset name</label>
        <input id="etl-name" value=${name} onInput=${(e) => setName(e.target.value)} required />
      </div>
      <div class="field">
        <label for="etl-files">Files (CSV, XLSX, JSON)</label>
        <input id="etl-files" type="file" multiple accept=".csv,.xlsx,.json"
          onChange=${(e) => setFiles([...e.target.files])} />
        <span class="hint">Each file's name (without extension) must match a schema, e.g. sku_data.csv.</span>
      </div>
      <div class="field"><button class="primary" type="submit" disabled=${busy || !name.trim() || !files.length}>
        ${busy ? "Uploading…" : "Upload and validate"}</button></div>
    </form>
    <div class="stack">
      <${Notice} kind="error">${error}<//>
      <${EtlMessages} result=${result} />
    </div>
  </section>`;
}

function Versions({ versions }) {
  if (!versions) return html`<p class="muted">Loading versions…</p>`;
  return html`<h3>Versions</h3>
    <p class="small muted">Each upload under this name adds a version; scenarios keep the version they were created on.</p>
    <table aria-label="Versions" data-testid="versions">
      <thead><tr><th scope="col" class="num">Version</th><th scope="col">Digest</th><th scope="col">Created</th>
        <th scope="col">Creator</th><th scope="col" class="num">ETL messages</th><th scope="col" class="num">Scenarios</th></tr></thead>
      <tbody>${versions.map(
        (v) => html`<tr data-version=${v.version}>
          <td class="num">${v.version}${v.latest ? html` <span class="badge complete">latest</span>` : ""}</td>
          <td class="mono" title=${v.digest}>${v.digest.slice(0, 12)}</td>
          <td>${new Date(v.created_at).toLocaleString()}</td>
          <td>${v.creator ?? "–"}</td>
          <td class="num">${v.messages}</td>
          <td class="num">${v.scenario_ids.length}</td>
        </tr>`
      )}</tbody>
    </table>`;
}

function DatasetDetail({ base, dataKey, onChanged, replaced, versionsSeen }) {
  const [tables, setTables] = useState(null);
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [newKey, setNewKey] = useState(`${dataKey} (derived)`);
  const path = `${base}/data/${seg(dataKey)}`;
  useEffect(() => {
    setTables(null);
    setError(null);
    setMessage(null);
    setNewKey(`${dataKey} (derived)`);
    setVersions(null);
    // Answers for a dataset no longer shown (a quick switch) are dropped.
    let live = true;
    const fail = (e) => live && setError(e.message);
    api.get(`${path}/tables`).then((b) => live && setTables(listOf(b, "tables")), fail);
    api.get(`${path}/versions`).then((b) => live && setVersions(listOf(b, "versions")), fail);
    return () => {
      live = false;
    };
  }, [dataKey]);
  useEffect(() => {
    if (!versionsSeen) return;
    api.get(`${path}/versions`).then((b) => setVersions(listOf(b, "versions")), (e) => setError(e.message));
  }, [versionsSeen]);

  async function derive(e) {
    e.preventDefault();
    setError(null);
    try {
      await api.post(`${path}/derive`, { new_key: newKey.trim() });
      setMessage(`Derived "${newKey.trim()}".`);
      onChanged(newKey.trim());
    } catch (err) {
      setError(err.message);
    }
  }
  async function remove() {
    if (!window.confirm(`Delete dataset "${dataKey}"?`)) return;
    setError(null);
    try {
      const answer = await api.del(path);
      if (answer && answer.remaining && answer.remaining.length) {
        setMessage(
          `Deleted version(s) ${answer.deleted.join(", ")}; version(s) ${answer.remaining.join(", ")} remain: scenarios use them.`
        );
        setVersions(listOf(await api.get(`${path}/versions`), "versions"));
        return;
      }
      onChanged(null);
    } catch (err) {
      setError(err.message);
    }
  }
  async function save(table, format) {
    setError(null);
    try {
      await download(`${path}/tables/${seg(table)}/download?format=${format}`, `${dataKey}-${table}.${format}`);
    } catch (err) {
      setError(err.message);
    }
  }
  return html`<section class="panel" aria-labelledby="dataset-title">
    <div class="row" style="justify-content: space-between">
      <h2 id="dataset-title">Dataset: ${dataKey}</h2>
      <button class="danger" onClick=${remove}>Delete dataset</button>
    </div>
    <${Notice} kind="ok">${replaced ? `Dataset "${dataKey}" was replaced: this is its new version.` : null}<//>
    <${Notice} kind="ok">${message}<//>
    <${Notice} kind="error">${error}<//>
    <form class="row" onSubmit=${derive} style="margin-bottom: 12px">
      <label for="derive-key">Derive a copy named</label>
      <input id="derive-key" value=${newKey} onInput=${(e) => setNewKey(e.target.value)} required />
      <button type="submit" disabled=${!newKey.trim()}>Derive</button>
    </form>
    <${DatasetFileActions} base=${base} dataKey=${dataKey} onChanged=${onChanged} />
    <${Versions} versions=${versions} />
    ${tables === null
      ? html`<p class="muted">Loading tables…</p>`
      : html`<${TableTabs} tables=${tables} label=${`Tables of ${dataKey}`}
          framePath=${(t) => `${path}/tables/${seg(t)}/frame`} actions=${downloads(save)} />`}
  </section>`;
}

export function DataPage({ session, arg }) {
  const base = `/sessions/${seg(session.id)}`;
  const [keys, setKeys] = useState(null);
  const [selected, setSelected] = useState(arg);
  const [error, setError] = useState(null);
  // The dataset on screen changed elsewhere: `revision` reloads its preview.
  const [revision, setRevision] = useState(0);
  const [replaced, setReplaced] = useState(null);
  const [versionsSeen, setVersionsSeen] = useState(0);
  const [gone, setGone] = useState(null);
  const shown = useRef(selected);
  shown.current = selected;
  async function load(pick) {
    try {
      const list = listOf(await api.get(`${base}/data`), "keys");
      setKeys(list);
      setSelected((old) => (pick !== undefined ? pick : old) ?? list[0] ?? null);
    } catch (err) {
      setError(err.message);
    }
  }
  useEffect(() => {
    load();
  }, []);
  // One stream per page (no polling): what any client does to the session's
  // datasets shows here without a reload.
  useEffect(() => {
    const controller = new AbortController();
    const reload = debounced(load, RELOAD_MS, controller.signal);
    followEvents(
      `${base}/events`,
      (type, data) => {
        if (!RELOADS.includes(type)) return;
        reload();
        const key = data.dataset?.key ?? data.subject;
        // Some versions deleted, the key kept: its versions change, its content does
        // not (and the page that deleted them keeps saying which remain).
        if (type === "dataset.replaced" && data.dataset?.remaining && key === shown.current) {
          setVersionsSeen((n) => n + 1);
        } else if (type === "reset" || (type === "dataset.replaced" && key === shown.current)) {
          setRevision((r) => r + 1);
          setReplaced(type === "reset" ? null : key);
        }
        if (type === "dataset.deleted" && key === shown.current) setGone(key);
      },
      controller.signal,
      sessionEnds
    );
    return () => controller.abort();
  }, [base]);
  const pickDataset = (k) => {
    setReplaced(null);
    setSelected(k);
  };
  const reloadPicking = (k) => {
    setReplaced(null);
    load(k);
  };
  return html`<h1>Data</h1>
    <${Notice} kind="error">${error}<//>
    <${Upload} base=${base} onDone=${reloadPicking} />
    <${DatasetJsonUpload} base=${base} onDone=${reloadPicking} />
    <div class="grid2">
      <div>
        <section class="panel" aria-labelledby="datasets-title">
          <h2 id="datasets-title">Datasets</h2>
          ${keys === null
            ? html`<p class="muted">Loading…</p>`
            : keys.length === 0
            ? html`<p class="muted">No datasets yet: upload some files.</p>`
            : html`<ul class="list-scroll" aria-label="Datasets" style="list-style:none; margin:0">
                ${keys.map(
                  (k) => html`<li><button class=${k === selected ? "primary" : "link"}
                    aria-pressed=${k === selected ? "true" : "false"} onClick=${() => pickDataset(k)}>${k}</button></li>`
                )}</ul>`}
        </section>
      </div>
      <div>
        ${selected && keys && keys.includes(selected)
          ? html`<${DatasetDetail} key=${`${revision}:${selected}`} base=${base} dataKey=${selected}
              replaced=${replaced === selected} versionsSeen=${versionsSeen} onChanged=${reloadPicking} />`
          : selected && keys && gone === selected
          ? html`<p class="muted" data-testid="dataset-gone">Dataset "${selected}" was deleted.</p>`
          : html`<p class="muted">Pick a dataset to preview its tables.</p>`}
      </div>
    </div>`;
}
