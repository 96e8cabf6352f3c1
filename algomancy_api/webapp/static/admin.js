// Admin: the server's recent log lines (`GET …/admin/logs`, admin_users only),
// filtered by level, logger and text, followed live.
import { html, useEffect, useRef, useState } from "../vendor/htm-preact/standalone.module.js";
import { api } from "./api.js";
import { Notice } from "./ui.js";

const POLL_MS = 2000;
const KEEP = 2000;
const LEVELS = ["debug", "info", "warning", "error", "critical"];

/** Whether the signed-in user may read the log (asked once). */
export function useIsAdmin(user) {
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (!user?.authenticated) return undefined;
    let live = true;
    api.get("/admin/logs?limit=1").then(() => live && setAdmin(true), () => live && setAdmin(false));
    return () => {
      live = false;
    };
  }, [user?.username]);
  return admin;
}

function query(filters, after, limit) {
  const q = new URLSearchParams({ limit: String(limit), after: String(after) });
  if (filters.level) q.set("level", filters.level);
  if (filters.contains.trim()) q.set("contains", filters.contains.trim());
  if (filters.logger.trim()) q.set("logger", filters.logger.trim());
  return `/admin/logs?${q}`;
}

export function AdminPage() {
  const [filters, setFilters] = useState({ level: "", contains: "", logger: "" });
  const [lines, setLines] = useState([]);
  const [error, setError] = useState(null);
  const [paused, setPaused] = useState(false);
  const [capacity, setCapacity] = useState(null);
  const last = useRef(0);

  useEffect(() => {
    // New filters: read the newest lines again, then follow.
    let live = true;
    let timer = null;
    last.current = 0;
    setLines([]);
    async function poll(first) {
      try {
        const body = await api.get(query(filters, last.current, first ? 500 : 1000));
        if (!live) return;
        setError(null);
        setCapacity(body.capacity);
        if (body.lines.length) {
          last.current = body.lines[body.lines.length - 1].seq;
          setLines((old) => [...old, ...body.lines].slice(-KEEP));
        }
      } catch (err) {
        if (live) setError(err.status === 403 ? "The log is for administrators only." : err.message);
        if (err.status === 403) return;
      }
      if (live && !paused) timer = setTimeout(() => poll(false), POLL_MS);
    }
    poll(true);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [filters.level, filters.contains, filters.logger, paused]);

  const set = (name) => (e) => setFilters((old) => ({ ...old, [name]: e.target.value }));
  return html`<h1>Admin: server log</h1>
    <section class="panel" aria-labelledby="log-title">
      <h2 id="log-title">Recent log lines</h2>
      <p class="small muted">The last ${capacity ?? "…"} lines the server logged (<code>admin_log_lines</code>), newest last${paused ? "; paused" : ", followed live"}.</p>
      <div class="row log-filters">
        <label for="log-level">Level</label>
        <select id="log-level" value=${filters.level} onChange=${set("level")}>
          <option value="">any</option>
          ${LEVELS.map((l) => html`<option value=${l}>${l} and above</option>`)}
        </select>
        <label for="log-logger">Logger</label>
        <input id="log-logger" value=${filters.logger} placeholder="algomancy" onInput=${set("logger")} />
        <label for="log-contains">Text</label>
        <input id="log-contains" type="search" value=${filters.contains} onInput=${set("contains")} />
        <button onClick=${() => setPaused((p) => !p)}>${paused ? "Follow" : "Pause"}</button>
      </div>
      <${Notice} kind="error">${error}<//>
      ${lines.length === 0
        ? html`<p class="muted">${error ? "" : "No lines match."}</p>`
        : html`<div class="table-wrap log-wrap"><table aria-label="Log lines" class="log">
            <thead><tr><th scope="col">Time</th><th scope="col">Level</th><th scope="col">Logger</th><th scope="col">Message</th></tr></thead>
            <tbody>${lines.map(
              (l) => html`<tr key=${l.seq} data-level=${l.level}>
                <td class="small">${l.time.replace("T", " ").slice(0, 23)}</td>
                <td><span class=${`badge log-${l.level.toLowerCase()}`}>${l.level}</span></td>
                <td class="small">${l.logger}</td><td><pre class="log-message">${l.message}</pre></td>
              </tr>`
            )}</tbody></table></div>`}
    </section>`;
}
