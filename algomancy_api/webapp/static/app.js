// The shell: sign-in, the current session, navigation between pages.
import { html, render, useCallback, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, apiKey, listOf, me, onUnauthorized } from "./api.js";
import { Notice } from "./ui.js";
import { SessionsPage } from "./sessions.js";
import { DataPage } from "./data.js";
import { ScenariosPage } from "./scenarios.js";
import { ComparePage } from "./compare.js";

const PAGES = [
  ["scenarios", "Scenarios"],
  ["data", "Data"],
  ["compare", "Compare"],
  ["sessions", "Sessions"],
];
const SESSION_STORAGE = "algomancy-session";

function parseHash() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = PAGES.some(([p]) => p === parts[0]) ? parts[0] : "scenarios";
  return { page, arg: parts[1] || null };
}

function SignIn({ onSignedIn, rejected }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(rejected ? "The server did not accept that API key." : null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    apiKey.set(key.trim());
    try {
      onSignedIn(await me());
    } catch (err) {
      apiKey.clear();
      setError(err.status === 401 ? "The server did not accept that API key." : err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<main id="main" class="signin">
    <form class="panel" onSubmit=${submit}>
      <h1>Sign in</h1>
      <p class="muted">This server needs an API key. It is kept for this browser tab only.</p>
      ${error && html`<${Notice} kind="error">${error}<//>`}
      <div class="field">
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="current-password" required
          value=${key} onInput=${(e) => setKey(e.target.value)} />
      </div>
      <button class="primary" type="submit" disabled=${busy || !key.trim()}>Sign in</button>
    </form>
  </main>`;
}

function App() {
  const [route, setRoute] = useState(parseHash());
  const [user, setUser] = useState(undefined); // undefined: asking; null: must sign in
  const [rejected, setRejected] = useState(false);
  const [sessions, setSessions] = useState(null);
  const [sid, setSid] = useState(localStorage.getItem(SESSION_STORAGE));
  const [error, setError] = useState(null);

  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    window.addEventListener("hashchange", onHash);
    onUnauthorized(() => {
      setRejected(apiKey.get() !== null);
      apiKey.clear();
      setUser(null);
    });
    me().then(setUser, (err) => (err.status === 401 ? setUser(null) : setError(err.message)));
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const reloadSessions = useCallback(async () => {
    const body = await api.get("/sessions");
    setSessions(body);
    return body;
  }, []);

  useEffect(() => {
    if (user) reloadSessions().catch((err) => setError(err.message));
  }, [user]);

  const switchTo = useCallback((id) => {
    localStorage.setItem(SESSION_STORAGE, id);
    setSid(id);
  }, []);

  if (error) return html`<main id="main"><${Notice} kind="error">${error}<//></main>`;
  if (user === undefined) return html`<p class="loading">Loading…</p>`;
  if (user === null) return html`<${SignIn} rejected=${rejected} onSignedIn=${(u) => { setRejected(false); setUser(u); }} />`;
  if (!sessions) return html`<p class="loading">Loading sessions…</p>`;

  const list = listOf(sessions, "sessions");
  const current = list.find((s) => s.id === sid) || list.find((s) => s.id === sessions.default) || list[0];
  const signOut = () => {
    apiKey.clear();
    setRejected(false);
    setUser(null);
  };
  const props = { session: current, sessions, reloadSessions, switchTo, arg: route.arg };
  const Page = { sessions: SessionsPage, data: DataPage, scenarios: ScenariosPage, compare: ComparePage }[route.page];
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/scenarios">Algomancy</a>
      <nav aria-label="Pages">
        ${PAGES.map(([p, label]) => html`<a href="#/${p}" aria-current=${route.page === p ? "page" : null}>${label}</a>`)}
      </nav>
      <div class="who">
        <label for="session-switch" class="small">Session</label>
        <select id="session-switch" value=${current?.id} onChange=${(e) => switchTo(e.target.value)}>
          ${list.map((s) => html`<option value=${s.id}>${s.display_name}</option>`)}
        </select>
        <span data-testid="user">${user.authenticated ? html`Signed in as <strong>${user.username}</strong>` : "Not signed in (authentication off)"}</span>
        ${user.authenticated && apiKey.get() && html`<button class="link" onClick=${signOut}>Sign out</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${current ? html`<${Page} key=${route.page === "sessions" ? route.page : current.id + route.page} ...${props} />` : html`<p>No session.</p>`}
    </main>`;
}

render(html`<${App} />`, document.getElementById("app"));
