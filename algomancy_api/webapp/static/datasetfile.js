// A dataset as one JSON file (`GET …/data/{key}`, `POST …/data/from-json`), and
// "save as master" (`POST …/data/{key}/save-as-master`).
import { html, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, download, seg } from "./api.js";
import { Notice } from "./ui.js";

/** Download the dataset as JSON, and save a copy of it as master data. */
export function DatasetFileActions({ base, dataKey, onChanged }) {
  const path = `${base}/data/${seg(dataKey)}`;
  const [masterKey, setMasterKey] = useState(`${dataKey} (master)`);
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  async function save() {
    setError(null);
    try {
      await download(path, `${dataKey}.json`);
    } catch (err) {
      setError(err.message);
    }
  }
  async function promote(e) {
    e.preventDefault();
    setError(null);
    setMessage(null);
    const key = masterKey.trim();
    try {
      await api.post(`${path}/save-as-master`, { new_key: key });
      setMessage(`Saved "${key}" as master data.`);
      onChanged(key);
    } catch (err) {
      setError(err.message);
    }
  }
  return html`<div class="stack" data-testid="dataset-file">
    <${Notice} kind="ok">${message}<//>
    <${Notice} kind="error">${error}<//>
    <div class="row">
      <button onClick=${save}>Download dataset as JSON</button>
    </div>
    <form class="row" onSubmit=${promote}>
      <label for="master-key">Save as master data named</label>
      <input id="master-key" value=${masterKey} onInput=${(e) => setMasterKey(e.target.value)} required />
      <button type="submit" disabled=${!masterKey.trim()}>Save as master</button>
    </form>
  </div>`;
}

/** Upload a dataset JSON file (as downloaded above); it is stored under its own name. */
export function DatasetJsonUpload({ base, onDone }) {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  async function chosen(e) {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    setError(null);
    setMessage(null);
    setBusy(true);
    try {
      let body;
      try {
        body = JSON.parse(await file.text());
      } catch (err) {
        throw new Error(`${file.name} is not JSON: ${err.message}`);
      }
      const before = new Set((await api.get(`${base}/data`)).keys || []);
      const answer = await api.post(`${base}/data/from-json`, body);
      const added = (answer.keys || []).find((k) => !before.has(k)) ?? null;
      setMessage(`Loaded dataset "${added ?? body.name}" from ${file.name}.`);
      onDone(added ?? undefined);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="panel" aria-labelledby="json-upload-title" data-testid="dataset-json-upload">
    <h2 id="json-upload-title">Upload a dataset JSON file</h2>
    <div class="field">
      <label for="dataset-json">Dataset JSON file</label>
      <input id="dataset-json" type="file" accept=".json,application/json" disabled=${busy} onChange=${chosen} aria-describedby="dataset-json-hint" />
      <span id="dataset-json-hint" class="hint">A file a dataset's JSON download saved (the dataset is stored under its <code>name</code>; edit it for another).</span>
    </div>
    <${Notice} kind="ok">${message}<//>
    <${Notice} kind="error">${error}<//>
  </section>`;
}
