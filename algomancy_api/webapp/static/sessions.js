// Sessions: list, create, rename, copy, delete, switch.
import { html, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, listOf, seg } from "./api.js";
import { Notice } from "./ui.js";

function NameForm({ label, id, initial = "", submitLabel, onSubmit, onCancel, clearOnSuccess = false }) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    try {
      await onSubmit(name);
      if (clearOnSuccess) setName("");
    } catch (err) {
      setError(err.message);
    }
  }
  return html`<form class="row" onSubmit=${submit}>
    <label for=${id}>${label}</label>
    <input id=${id} value=${name} onInput=${(e) => setName(e.target.value)} required
      aria-invalid=${error ? "true" : null} aria-describedby=${error ? id + "-error" : null} />
    <button class="primary" type="submit" disabled=${!name.trim()}>${submitLabel}</button>
    ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
    ${error && html`<span id=${id + "-error"} class="error-text" role="alert">${error}</span>`}
  </form>`;
}

export function SessionsPage({ session, sessions, reloadSessions, switchTo }) {
  const [editing, setEditing] = useState(null); // {id, mode: "rename"|"copy"}
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  const list = listOf(sessions, "sessions");

  async function create(name) {
    const body = await api.post("/sessions", { display_name: name.trim() });
    await reloadSessions();
    switchTo(body.session.id);
    setMessage(`Created session ${body.session.display_name} and switched to it.`);
  }
  async function rename(s, name) {
    await api.patch(`/sessions/${seg(s.id)}`, { display_name: name.trim() });
    await reloadSessions();
    setEditing(null);
    setMessage(`Renamed to ${name.trim()}.`);
  }
  async function copy(s, name) {
    const body = await api.post(`/sessions/${seg(s.id)}/copy`, { new_display_name: name.trim() });
    await reloadSessions();
    setEditing(null);
    setMessage(`Copied ${s.display_name} to ${body.session.display_name}.`);
  }
  async function remove(s) {
    if (!window.confirm(`Delete session "${s.display_name}" with its datasets and scenarios?`)) return;
    setError(null);
    try {
      await api.del(`/sessions/${seg(s.id)}`);
      const body = await reloadSessions();
      if (s.id === session.id) switchTo(body.default);
      setMessage(`Deleted ${s.display_name}.`);
    } catch (err) {
      setError(err.message);
    }
  }

  return html`<h1>Sessions</h1>
    <${Notice} kind="ok">${message}<//>
    <${Notice} kind="error">${error}<//>
    <section class="panel" aria-labelledby="new-session-title">
      <h2 id="new-session-title">New session</h2>
      <${NameForm} id="new-session" label="Name" submitLabel="Create session" onSubmit=${create} clearOnSuccess />
    </section>
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">All sessions (${list.length})</h2>
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          ${list.map(
            (s) => html`<tr class=${s.id === session.id ? "selected" : ""}>
              <td>${s.display_name} ${s.id === session.id && html`<span class="badge info">current</span>`}
                ${s.id === sessions.default && html` <span class="small muted">(default)</span>`}</td>
              <td class="small muted"><code>${s.id}</code></td>
              <td>
                ${editing?.id === s.id
                  ? html`<${NameForm} id=${`${editing.mode}-${s.id}`}
                      label=${editing.mode === "rename" ? "New name" : "Name of the copy"}
                      initial=${editing.mode === "rename" ? s.display_name : `${s.display_name} copy`}
                      submitLabel=${editing.mode === "rename" ? "Rename" : "Copy"}
                      onSubmit=${(name) => (editing.mode === "rename" ? rename(s, name) : copy(s, name))}
                      onCancel=${() => setEditing(null)} />`
                  : html`<div class="row">
                      <button onClick=${() => switchTo(s.id)} disabled=${s.id === session.id}
                        aria-label=${`Switch to ${s.display_name}`}>Switch</button>
                      <button onClick=${() => setEditing({ id: s.id, mode: "rename" })}
                        aria-label=${`Rename ${s.display_name}`}>Rename</button>
                      <button onClick=${() => setEditing({ id: s.id, mode: "copy" })}
                        aria-label=${`Copy ${s.display_name}`}>Copy</button>
                      <button class="danger" onClick=${() => remove(s)}
                        aria-label=${`Delete ${s.display_name}`}>Delete</button>
                    </div>`}
              </td>
            </tr>`
          )}
        </tbody>
      </table>
    </section>`;
}
