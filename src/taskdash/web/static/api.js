// Same-origin JSON calls to /api/v1; failures become ApiError carrying the server's errid/errmsg.

export class ApiError extends Error {
  constructor({ status = 0, errid = 0, errmsg = "", detail = "" }) {
    super(errmsg || `HTTP ${status}`);
    this.status = status;
    this.errid = errid;
    this.errmsg = errmsg || `HTTP ${status}`;
    this.detail = detail;
  }
}

const listeners = new Set();

/** Called with every ApiError whose errid is 1004 (not logged in / session expired). */
export function onSessionLost(listener) {
  listeners.add(listener);
}

export async function api(method, path, body = undefined) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (exc) {
    throw new ApiError({ errmsg: navigator.onLine === false ? "offline" : String(exc.message) });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError({
      status: response.status,
      errid: data?.errid ?? 0,
      errmsg: data?.errmsg ?? response.statusText,
      // An unexpected error (1011) has no detail but an ID an operator can find in the log.
      detail: data?.detail ?? (data?.request_id ? `request ${data.request_id}` : ""),
    });
    if (error.errid === 1004 && path !== "/login") listeners.forEach((fn) => fn(error));
    throw error;
  }
  return data;
}

/** A query string from an object, leaving out empty values. */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
