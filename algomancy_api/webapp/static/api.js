// The app's only way to the server: the public HTTP API (same origin).
const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;

/** Where the app is mounted ("" or a proxy's root path) and the API prefix under it. */
export const ROOT = meta("algomancy-root");
export const API = meta("algomancy-api");

const KEY_STORAGE = "algomancy-api-key";

/** The API key lives in sessionStorage: gone when the browser tab closes. */
export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

let unauthorized = () => {};
/** Called when the server answers 401 (no key, or a wrong one). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** An error answer: `detail` as text, and `parameter` when the server names one. */
export class ApiError extends Error {
  constructor(status, body) {
    super(detailText(body && body.detail !== undefined ? body.detail : body) || `HTTP ${status}`);
    this.status = status;
    this.parameter = body && body.parameter ? body.parameter : null;
    this.fields = body && Array.isArray(body.detail) ? body.detail : [];
  }
}

/** The `detail` of an error as one line (422 answers carry a list of problems). */
export function detailText(detail) {
  if (detail == null) return "";
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => (d.loc ? `${d.loc.filter((p) => p !== "body").join(".")}: ${d.msg}` : String(d.msg || d)))
      .join("; ");
  }
  return JSON.stringify(detail);
}

function headers(extra = {}) {
  const h = { "X-Requested-With": "algomancy-web", ...extra };
  const key = apiKey.get();
  if (key) h["X-API-Key"] = key;
  return h;
}

/** `method` on `url` (absolute path); JSON in and out. */
export async function call(method, url, { json, form } = {}) {
  const init = { method, headers: headers({ Accept: "application/json" }) };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  const res = await fetch(url, init);
  if (res.status === 401) unauthorized();
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** A route under the API prefix. */
export const api = {
  get: (path) => call("GET", API + path),
  post: (path, json) => call("POST", API + path, { json: json === undefined ? {} : json }),
  patch: (path, json) => call("PATCH", API + path, { json }),
  del: (path) => call("DELETE", API + path),
  upload: (path, form) => call("POST", API + path, { form }),
};

export const me = () => call("GET", ROOT + "/me");

/** A path segment, escaped. */
export const seg = encodeURIComponent;

/** A list from either shape of a list route: `[...]` or `{"<name>": [...]}`. */
export function listOf(body, name) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body[name])) return body[name];
  return [];
}

/**
 * Every row of a frame route (`path`, answering `?offset&limit` pages with
 * `source.context.total_rows`), read `pageSize` rows at a time, at most `max` rows:
 * `{fields, rows, total}`.
 */
export async function readFrame(path, { pageSize = 5000, max = 100_000 } = {}) {
  const join = path.includes("?") ? "&" : "?";
  let rows = [];
  let fields = null;
  let total = 0;
  for (;;) {
    const f = await api.get(`${path}${join}offset=${rows.length}&limit=${pageSize}`);
    fields = fields || f.fields || (f.columns || []).map((c) => ({ key: c, label: c, type: "string" }));
    const got = Array.isArray(f.rows) ? f.rows : [];
    rows = rows.concat(got);
    total = f.source?.context?.total_rows ?? rows.length;
    if (got.length === 0 || rows.length >= total || rows.length >= max) break;
  }
  return { fields: fields || [], rows, total };
}

/** Save a file the server makes (sent with the API key, so not a plain link). */
export async function download(path, fallbackName) {
  const res = await fetch(API + path, { headers: headers() });
  if (res.status === 401) unauthorized();
  if (!res.ok) {
    const type = res.headers.get("content-type") || "";
    throw new ApiError(res.status, type.includes("json") ? await res.json() : await res.text());
  }
  const disposition = res.headers.get("content-disposition") || "";
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="([^"]+)"/i.exec(disposition);
  const name = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A scenario stream's last event: the scenario ended or is gone. */
const scenarioEnds = (type, data) => type === "deleted" || data.status === "complete" || data.status === "failed";

/** A session stream's last event: the session is gone. */
export const sessionEnds = (type) => type === "session.deleted";

/**
 * `action`, run once `ms` after the first call of a burst of calls (the calls meanwhile
 * join it): a page reads its list again once per burst of events, not once per event.
 * Nothing runs after `signal` aborts (the page's stream is closed).
 */
export function debounced(action, ms, signal) {
  let pending = null;
  signal.addEventListener("abort", () => {
    if (pending !== null) clearTimeout(pending);
    pending = null;
  });
  return () => {
    if (pending !== null || signal.aborted) return;
    pending = setTimeout(() => {
      pending = null;
      action();
    }, ms);
  };
}

/**
 * Follow a Server-Sent Events stream with fetch(), so that the API key can go in a
 * header (EventSource cannot send one). Calls `onEvent(type, data)` per event,
 * reconnects with Last-Event-ID when the connection drops, and stops after the
 * event `ends(type, data)` accepts (by default a scenario's terminal event), or
 * when `signal` aborts. `onState(up)`, when given, hears `true` at the first event or
 * comment of each connection (the server follows the stream from then on) and
 * `false` when a connection drops or cannot be made.
 */
export async function followEvents(path, onEvent, signal, ends = scenarioEnds, onState = () => {}) {
  let lastId = null;
  let finished = false;
  while (!signal.aborted && !finished) {
    let res;
    let up = false;
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (lastId !== null) h["Last-Event-ID"] = lastId;
      res = await fetch(API + path, { headers: h, signal, cache: "no-store" });
    } catch (err) {
      if (signal.aborted) return;
      onState(false);
      await sleep(1000, signal);
      continue;
    }
    if (res.status === 401) {
      unauthorized();
      return;
    }
    if (!res.ok) {
      onState(false);
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { type: "message", data: [], id: null };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n")) >= 0) {
          let line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (line.endsWith("\r")) line = line.slice(0, -1);
          if (!up && (line === "" || line.startsWith(":"))) {
            up = true;
            onState(true);
          }
          if (line === "") {
            if (event.data.length) {
              if (event.id !== null) lastId = event.id;
              const data = JSON.parse(event.data.join("\n"));
              onEvent(event.type, data);
              if (ends(event.type, data)) finished = true;
            }
            event = { type: "message", data: [], id: null };
          } else if (!line.startsWith(":")) {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "data") event.data.push(val);
            else if (field === "event") event.type = val;
            else if (field === "id") event.id = val;
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
    }
    if (!finished && !signal.aborted) onState(false);
    if (!finished) await sleep(1000, signal);
  }
}
