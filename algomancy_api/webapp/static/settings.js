// The app's settings from the configuration (`GET /app/settings`): title, logo,
// accent colour and feature switches. Read once, before the app is drawn.
import { html } from "../vendor/htm-preact/standalone.module.js";
import { ROOT } from "./api.js";

let current = {
  title: "Algomancy",
  logo: false,
  accent: null,
  features: { session_picker: true, parameter_upload: true },
};

/** The settings read at start (defaults until then, or if the server had none). */
export const settings = () => current;

/** A switch of `app_features` (on unless the server says off). */
export const feature = (name) => current.features?.[name] !== false;

export async function loadSettings() {
  try {
    const res = await fetch(`${ROOT}/app/settings`, { headers: { Accept: "application/json" } });
    if (res.ok) current = { ...current, ...(await res.json()) };
  } catch (err) {
    // An older server without the route: the defaults stay.
  }
  document.title = current.title;
  // Set from script (the page's policy allows no inline styles).
  if (current.accent) document.documentElement.style.setProperty("--accent", current.accent);
  return current;
}

/** The header's brand: the logo (when configured) and the title. */
export function Brand() {
  return html`${current.logo && html`<img class="brand-logo" src=${`${ROOT}/app/logo`} alt="" />`}<span data-testid="app-title">${current.title}</span>`;
}
