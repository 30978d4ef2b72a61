// The overview's state is its URL query: the period (24h, 7d, 30d or custom since/until), the
// project and type filters, the throughput bucket and the stuck-work threshold in hours.

import { queryString } from "./api.js";

export const PERIODS = { "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
export const DEFAULT_PERIOD = "7d";
export const DEFAULT_HELD_HOURS = 24;
const MAX_HELD_HOURS = 8760;
const HOUR_BUCKETS_UP_TO_S = 7 * 86400; // longer ranges are shown per day unless asked

function seconds(raw) {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) ? Math.round(value) : null;
}

/** The state a URL query names (anything missing or unreadable takes its default). */
export function overviewState(query, now = Math.floor(Date.now() / 1000)) {
  const custom = query.period === "custom";
  const period = custom || query.period in PERIODS ? query.period : DEFAULT_PERIOD;
  let since = now - (PERIODS[period] ?? PERIODS[DEFAULT_PERIOD]);
  let until = now;
  if (custom) {
    const from = seconds(query.since);
    const to = seconds(query.until);
    if (from !== null && to !== null && from < to) [since, until] = [from, to];
  }
  const held = seconds(query.held);
  return {
    period,
    since,
    until,
    project: query.project || "",
    type: query.type || "",
    bucket:
      query.bucket === "hour" || query.bucket === "day"
        ? query.bucket
        : until - since <= HOUR_BUCKETS_UP_TO_S
          ? "hour"
          : "day",
    bucketChosen: query.bucket === "hour" || query.bucket === "day",
    held: held !== null && held >= 1 && held <= MAX_HELD_HOURS ? held : DEFAULT_HELD_HOURS,
  };
}

/** The URL query of `state` with `changes` applied: no defaults, no empty values. */
export function overviewQuery(state, changes = {}) {
  const next = { ...state, ...changes };
  const query = {};
  if (next.period !== DEFAULT_PERIOD) query.period = next.period;
  if (next.period === "custom") {
    query.since = String(next.since);
    query.until = String(next.until);
  }
  if (next.project) query.project = next.project;
  if (next.type) query.type = next.type;
  if (next.bucketChosen) query.bucket = next.bucket;
  if (next.held !== DEFAULT_HELD_HOURS) query.held = String(next.held);
  return query;
}

/** The stats API path of each panel for `state`. */
export function statsPath(panel, state) {
  const filters = { project: state.project, type: state.type };
  const range = { ...filters, since: state.since, until: state.until };
  switch (panel) {
    case "projects":
      return `/stats/projects${queryString(filters)}`;
    case "throughput":
      return `/stats/throughput${queryString({ bucket: state.bucket, ...range })}`;
    case "people":
      return `/stats/people${queryString(range)}`;
    case "cycle":
      return `/stats/cycle-time${queryString(range)}`;
    case "services":
      return `/stats/services${queryString({ since: state.since, until: state.until })}`;
    case "stuck":
      return `/stats/stuck${queryString({ claimed_hours: state.held })}`;
    default:
      throw new Error(`no panel ${panel}`);
  }
}

/** The CSV export of the tasks the filters name (GET /api/v1/tasks/export.csv). */
export function exportHref(state) {
  return `/api/v1/tasks/export.csv${queryString({ project: state.project, type: state.type })}`;
}
