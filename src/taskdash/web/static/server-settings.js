// The server's settings the pages work by (GET /api/v1/settings/ui): finished statuses and
// limits are configured there, never copied here.

import { api } from "./api.js";

let current = null;
let pending = null;

/** Read the settings (at start and after signing in); resolves to them. */
export function loadServerSettings() {
  pending = api("GET", "/settings/ui").then(
    (settings) => (current = settings),
    (error) => {
      pending = null;
      throw error;
    },
  );
  return pending;
}

/** The settings, read first when they were not yet. */
export function serverSettings() {
  return current ? Promise.resolve(current) : pending || loadServerSettings();
}

/** Whether `status` counts as finished on this server (false while the settings are unread). */
export function isFinished(status) {
  return Boolean(current?.finished_statuses.includes(status));
}

/** The most tasks one list page may ask for, or `fallback` while the settings are unread. */
export function maxPage(fallback) {
  return current?.max_page || fallback;
}
