// Browser notifications when a followed run ends: opt-in (the Notification API asks
// the user once), nothing is shown without their permission.
import { html, useState } from "../vendor/htm-preact/standalone.module.js";

const supported = () => typeof window !== "undefined" && "Notification" in window;
const KEY = "algomancy.notify";

/** True when the user opted in here and the browser allows notifications. */
export function notificationsOn() {
  return supported() && Notification.permission === "granted" && localStorage.getItem(KEY) === "on";
}

/** Tell the user a followed run ended (only when they opted in and the page is hidden or not). */
export function notifyRunEnded(tag, status, error) {
  if (!notificationsOn()) return;
  const body = status === "complete" ? "The run completed." : `The run failed${error ? `: ${error}` : "."}`;
  try {
    new Notification(`Scenario ${tag}: ${status}`, { body, tag: `algomancy-${tag}` });
  } catch {
    // Some browsers allow notifications only from a service worker: nothing to show.
  }
}

/** The opt-in button: asks the browser's permission, then turns notifications on or off. */
export function NotifyButton() {
  const [on, setOn] = useState(notificationsOn());
  if (!supported()) return null;
  async function toggle() {
    if (on) {
      localStorage.setItem(KEY, "off");
      setOn(false);
      return;
    }
    const permission = await Notification.requestPermission();
    localStorage.setItem(KEY, permission === "granted" ? "on" : "off");
    setOn(permission === "granted");
  }
  return html`<button onClick=${toggle} aria-pressed=${on} data-testid="notify-toggle"
    title="Show a browser notification when a run you follow ends">${on ? "Notifying" : "Notify me"}</button>`;
}
