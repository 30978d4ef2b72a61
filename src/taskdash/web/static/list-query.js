// A task page's state is its URL query: which filters the page has, and the API parameters,
// order and assign filter that query makes.

import { queryString } from "./api.js";
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

// The orders of GET /api/v1/tasks (`sort`); the first is the server's default.
export const SORTS = ["CreateTime", "UpdatedAt", "status", "user"];
const TIME_SORTS = new Set(["CreateTime", "UpdatedAt"]);

/** The query's sort, else the default (CreateTime). */
export function listSort(query) {
  return SORTS.includes(query.sort) ? query.sort : SORTS[0];
}

/** The query after a click on the header of `sort`: that order again flips its direction;
 * another starts newest first for a time, A to Z for a status or a user. */
export function sortedQuery(kind, query, sort) {
  if (listSort(query) === sort) {
    return { ...query, sort, order: listOrder(kind, query) === "newest" ? "oldest" : "newest" };
  }
  return { ...query, sort, order: TIME_SORTS.has(sort) ? "newest" : "oldest" };
}

/** The query parameters of GET /api/v1/tasks for a page's filters. */
export function listParams(kind, query, me) {
  const params = {};
  for (const key of FILTERS[kind]) if (query[key]) params[key] = query[key];
  Object.assign(params, linkFilterParams(query));
  if (kind === "available") params.unclaimed = "true";
  if (kind === "mine") params.user = me.name;
  if (kind === "checking") params.checker = me.name;
  if (listSort(query) !== SORTS[0]) params.sort = listSort(query);
  params.order = listOrder(kind, query);
  return params;
}

/** The CSV download of a page: every task its filters and order list. */
export function exportUrl(kind, query, me) {
  return `/api/v1/tasks/export.csv${queryString(listParams(kind, query, me))}`;
}

/** The query to put in the URL: no empty values, no default sort or order. */
export function urlQuery(kind, next) {
  const clean = {};
  for (const [key, value] of Object.entries(next)) if (value) clean[key] = value;
  if (clean.order === defaultOrder(kind)) delete clean.order;
  if (clean.sort === SORTS[0]) delete clean.sort;
  return clean;
}

/** The filter of "assign every task matching": the manager page's filters that are set. */
export function assignFilter(query) {
  const filter = {};
  for (const key of FILTERS.all) if (query[key]) filter[key] = query[key];
  return filter;
}
