// A task page's state is its URL query: which filters the page has, and the API parameters,
// order and assign filter that query makes.

import { linkFilterParams } from "./link-filters.js";

export const FILTERS = {
  available: ["type", "project"],
  mine: ["status", "type", "project"],
  checking: ["status", "type", "project"],
  all: ["status", "user", "checker", "group", "type", "project"],
};

export function defaultOrder(kind) {
  return kind === "available" ? "oldest" : "newest";
}

/** "oldest" or "newest": the query's order, else the page's default. */
export function listOrder(kind, query) {
  return query.order === "oldest" || query.order === "newest" ? query.order : defaultOrder(kind);
}

/** The query parameters of GET /api/v1/tasks for a page's filters. */
export function listParams(kind, query, me) {
  const params = {};
  for (const key of FILTERS[kind]) if (query[key]) params[key] = query[key];
  Object.assign(params, linkFilterParams(query));
  if (kind === "available") params.unclaimed = "true";
  if (kind === "mine") params.user = me.name;
  if (kind === "checking") params.checker = me.name;
  params.order = listOrder(kind, query);
  return params;
}

/** The query to put in the URL: no empty values, no default order. */
export function urlQuery(kind, next) {
  const clean = {};
  for (const [key, value] of Object.entries(next)) if (value) clean[key] = value;
  if (clean.order === defaultOrder(kind)) delete clean.order;
  return clean;
}

/** The filter of "assign every task matching": the manager page's filters that are set. */
export function assignFilter(query) {
  const filter = {};
  for (const key of FILTERS.all) if (query[key]) filter[key] = query[key];
  return filter;
}
