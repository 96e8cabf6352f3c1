// The shell: sign-in, the current session, navigation between pages.
import { html, render, useCallback, useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, apiKey, listOf, me, onUnauthorized } from "./api.js";
import { Notice, link, setLinkSession } from "./ui.js";
import { SessionsPage } from "./sessions.js";
import { DataPage } from "./data.js";
import { ScenariosPage } from "./scenarios.js";
import { ComparePage } from "./compare.js";
import { ExperimentsPage } from "./experiments.js";
import { StudiesPage } from "./studies.js";
import { AdminPage, useIsAdmin } from "./admin.js";
import { Brand, feature, loadSettings } from "./settings.js";

const PAGES = [
  ["scenarios", "Scenarios"],
  ["data", "Data"],
  ["compare", "Compare"],
  ["experiments", "Experiments"],
  ["studies", "Studies"],
  ["sessions", "Sessions"],
  ["admin", "Admin"],
];
const SESSION_STORAGE = "algomancy-session";

/**
 * The route in the URL hash: `#/sessions/{session}/{page}[/{arg}]` (every link the
 * app makes), `#/sessions` (the sessions page), or the older `#/{page}[/{arg}]`
 * without a session (`sid` null), which the app still opens.
 */
function parseHash() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").filter((p) => p !== "").map(decodeURIComponent);
  const known = (p) => PAGES.some(([name]) => name === p);
  if (parts[0] === "sessions" && parts.length > 1) {
    return { sid: parts[1], page: known(parts[2]) ? parts[2] : "scenarios", arg: parts[3] || null };
  }
  return { sid: null, page: known(parts[0]) ? parts[0] : "scenarios", arg: parts[1] || null };
}

/**
 * The skip link moves focus to the page's main region. It must not follow its
 * `#main` href: the route lives in the hash, and a hash of `#main` would be read
 * as an older link without a session, unmounting the page (and a half-typed form)
 * while the app finds its session again.
 */
function skipToMain(e) {
  e.preventDefault();
  document.getElementById("main")?.focus();
}

/** Put `hash` in the address bar without a new history entry. */
function replaceHash(hash) {
  window.history.replaceState(null, "", hash);
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/**
 * For an older link without a session (`#/scenarios/{id}`): the session that holds
 * scenario `id`, looking in `first` and then the others; `first` when none does.
 */
async function sessionOfScenario(id, first, list) {
  // At most 50 sessions are asked (an admin may see many).
  for (const s of [first, ...list.filter((x) => x.id !== first.id)].slice(0, 50)) {
    try {
      await api.get(`/sessions/${encodeURIComponent(s.id)}/scenarios/${encodeURIComponent(id)}`);
      return s;
    } catch (err) {
      if (err.status !== 404) break;
    }
  }
  return first;
}

function UnknownSession({ sid, user, fallback }) {
  const why = user.authenticated
    ? html`which does not exist or which you (${user.username}) cannot see. Ask whoever sent the link to check it or to give you access.`
    : html`which does not exist on this server. Ask whoever sent the link to check it.`;
  return html`<section class="panel" data-testid="unknown-session">
    <h1>Session not available</h1>
    <${Notice} kind="error">This link is for session <code>${sid}</code>, ${why}<//>
    ${fallback && html`<p><a href=${link("scenarios", null, fallback.id)}>Open your session ${fallback.display_name}</a>${" or see "}<a href="#/sessions">all your sessions</a>.</p>`}
  </section>`;
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
  const [rechecked, setRechecked] = useState(null); // a link's session looked for again
  const isAdmin = useIsAdmin(user);

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

  const list = sessions ? listOf(sessions, "sessions") : [];
  const remembered = list.find((s) => s.id === sid) || list.find((s) => s.id === sessions?.default) || list[0];
  // The link's session, by id (or by display name, as the API accepts).
  const named = route.sid === null ? null : list.find((s) => s.id === route.sid) || list.find((s) => s.display_name === route.sid);
  const current = route.sid === null || route.page === "sessions" ? remembered : named;

  useEffect(() => {
    if (!sessions) return;
    if (route.sid !== null && !named && rechecked !== route.sid) {
      // Perhaps created since the list was read: ask once more before saying no.
      setRechecked(route.sid);
      reloadSessions().catch((err) => setError(err.message));
    } else if (named && named.id !== route.sid) {
      replaceHash(link(route.page, route.arg, named.id));
    } else if (named && route.page !== "sessions") {
      localStorage.setItem(SESSION_STORAGE, named.id);
      if (sid !== named.id) setSid(named.id);
    } else if (route.sid === null && route.page !== "sessions" && remembered) {
      // An older link without a session: the session it means, then its full link.
      const found = route.page === "scenarios" && route.arg ? sessionOfScenario(route.arg, remembered, list) : Promise.resolve(remembered);
      let live = true;
      found.then((s) => live && replaceHash(link(route.page, route.arg, s.id)));
      return () => {
        live = false;
      };
    }
    return undefined;
  }, [sessions, route.sid, route.page, route.arg, named?.id]);

  const switchTo = useCallback((id) => {
    localStorage.setItem(SESSION_STORAGE, id);
    setSid(id);
    const now = parseHash();
    if (now.page !== "sessions") window.location.hash = link(now.page, null, id);
  }, []);

  if (error) return html`<main id="main"><${Notice} kind="error">${error}<//></main>`;
  if (user === undefined) return html`<p class="loading">Loading…</p>`;
  if (user === null) return html`<${SignIn} rejected=${rejected} onSignedIn=${(u) => { setRejected(false); setUser(u); }} />`;
  if (!sessions) return html`<p class="loading">Loading sessions…</p>`;

  setLinkSession(current?.id ?? remembered?.id ?? null);
  const signOut = () => {
    apiKey.clear();
    setRejected(false);
    setUser(null);
  };
  const props = { session: current, sessions, reloadSessions, switchTo, arg: route.arg };
  const Page = { sessions: SessionsPage, data: DataPage, scenarios: ScenariosPage, compare: ComparePage, experiments: ExperimentsPage, studies: StudiesPage, admin: AdminPage }[route.page];
  // The Admin link for admin_users only; the Sessions link and picker as `app_features` say.
  const shown = PAGES.filter(([p]) => (p === "admin" ? isAdmin : p !== "sessions" || feature("session_picker")));
  const waiting = route.sid === null && route.page !== "sessions" && current; // being given its session
  const unknown = route.sid !== null && route.page !== "sessions" && !named && rechecked === route.sid;
  let body;
  if (unknown) body = html`<${UnknownSession} sid=${route.sid} user=${user} fallback=${remembered} />`;
  else if (waiting || (route.sid !== null && !current)) body = html`<p class="loading">Loading…</p>`;
  else if (current) body = html`<${Page} key=${route.page === "sessions" ? route.page : current.id + route.page} ...${props} />`;
  else body = html`<p>No session.</p>`;
  return html`
    <a class="skip" href="#main" onClick=${skipToMain}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${link("scenarios")}><${Brand} /></a>
      <nav aria-label="Pages">
        ${shown.map(([p, label]) => html`<a href=${link(p)} aria-current=${route.page === p ? "page" : null}>${label}</a>`)}
      </nav>
      <div class="who">
        ${feature("session_picker") && html`<label for="session-switch" class="small">Session</label>
        <select id="session-switch" value=${current?.id ?? ""} onChange=${(e) => switchTo(e.target.value)}>
          ${!current && html`<option value="">(none)</option>`}
          ${list.map((s) => html`<option value=${s.id}>${s.display_name}</option>`)}
        </select>`}
        <span data-testid="user">${user.authenticated ? html`Signed in as <strong>${user.username}</strong>` : "Not signed in (authentication off)"}</span>
        ${user.authenticated && apiKey.get() && html`<button class="link" onClick=${signOut}>Sign out</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1">${body}</main>`;
}

loadSettings().finally(() => render(html`<${App} />`, document.getElementById("app")));
