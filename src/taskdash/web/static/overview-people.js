// Panel 3, people: per annotator and per group, what they hold, finished in the period, the
// median claim → finish time, releases and expiries; sortable; a person links to their tasks.

import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";
import { shortDuration } from "./overview-format.js";

const NUMBERS = ["holding", "finished", "median_claim_to_finish_s", "releases", "expiries"];
const PEOPLE_COLUMNS = ["user", "groups", ...NUMBERS];
const GROUP_COLUMNS = ["group", "members", ...NUMBERS];

function cellText(key, row) {
  if (key === "median_claim_to_finish_s") return shortDuration(row[key]);
  if (key === "groups") return row.groups.join(", ") || "—";
  return typeof row[key] === "number" ? formatNumber(row[key]) : row[key] || "—";
}

function sortValue(key, row) {
  if (key === "groups") return row.groups.join(",");
  const value = row[key];
  return value === null || value === undefined ? -Infinity : value;
}

function sorted(rows, { key, descending }) {
  const factor = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = sortValue(key, a);
    const y = sortValue(key, b);
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return order * factor || String(a.user ?? a.group).localeCompare(String(b.user ?? b.group));
  });
}

/** A header cell whose button sorts by its column (again: the other way). */
function sortHeader(key, sort, onSort) {
  const active = sort.key === key;
  return h(
    "th",
    {
      scope: "col",
      class: `col-pp-${key}${NUMBERS.includes(key) || key === "members" ? " num" : ""}`,
      "aria-sort": active ? (sort.descending ? "descending" : "ascending") : null,
    },
    h(
      "button",
      { type: "button", class: "sort", onclick: () => onSort(key) },
      t(`overview.pp.${key}`),
      active
        ? h("span", { class: "sort-arrow", "aria-hidden": "true" }, sort.descending ? "↓" : "↑")
        : null,
    ),
  );
}

function peopleTable({ name, rows, columns, sort, onSort, first }) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {
        class: `tasks overview-people`,
        dataset: { table: name },
        "aria-label": t(`overview.pp.${name}`),
      },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((key) => sortHeader(key, sort, onSort)),
        ),
      ),
      h(
        "tbody",
        {},
        sorted(rows, sort).map((row) =>
          h(
            "tr",
            { dataset: { key: row[columns[0]] } },
            columns.map((key) =>
              h(
                "td",
                {
                  class: `col-pp-${key}${NUMBERS.includes(key) || key === "members" ? " num" : ""}`,
                  dataset: { label: t(`overview.pp.${key}`), stat: key },
                },
                key === columns[0] ? first(row) : cellText(key, row),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The people panel's body for GET /stats/people; `env.ui.peopleSort` keeps the order. */
export function renderPeople(data, env) {
  if (!data.people.length && !data.groups.length) {
    return h("p", { class: "empty" }, t("overview.pp.empty"));
  }
  env.ui.peopleSort ??= { key: "finished", descending: true };
  const sort = env.ui.peopleSort;
  const onSort = (key) => {
    env.ui.peopleSort = {
      key,
      descending:
        sort.key === key ? !sort.descending : key !== "user" && key !== "group" && key !== "groups",
    };
    env.rerender("people");
  };
  const tables = [];
  if (data.people.length) {
    tables.push(
      peopleTable({
        name: "people",
        rows: data.people,
        columns: PEOPLE_COLUMNS,
        sort: sort.key === "group" || sort.key === "members" ? { ...sort, key: "user" } : sort,
        onSort,
        first: (row) =>
          h("a", { href: env.taskListHref({ user: row.user }), class: "person" }, row.user),
      }),
    );
  }
  if (data.groups.length) {
    tables.push(
      h("h3", {}, t("overview.pp.groups")),
      peopleTable({
        name: "groups",
        rows: data.groups,
        columns: GROUP_COLUMNS,
        sort: sort.key === "user" || sort.key === "groups" ? { ...sort, key: "group" } : sort,
        onSort,
        first: (row) =>
          h("a", { href: env.taskListHref({ group: row.group }), class: "person" }, row.group),
      }),
    );
  }
  return h("div", {}, tables);
}
