// Panel 1, projects: per project and type a stacked bar by status with the numbers, % finished,
// unclaimed waiting and the oldest unclaimed; every status count links to its task list.

import { h, ageElement, formatNumber } from "./dom.js";
import { t, statusLabel, statusKind } from "./i18n.js";
import { UNCLAIMED, CLAIMED } from "./roles.js";
import { isFinished } from "./server-settings.js";
import { responsiveBox } from "./chart-figure.js";
import { stackedBar } from "./chart-stacked-bar.js";
import { percent } from "./overview-format.js";

const COLUMNS = ["project", "type", "status", "total", "finished", "unclaimed", "oldest"];

/** Statuses in working order: unclaimed, claimed, the rest by name, finished ones last. */
function orderedStatuses(byStatus) {
  const rank = (status) =>
    status === UNCLAIMED ? 0 : status === CLAIMED ? 1 : isFinished(status) ? 3 : 2;
  return Object.keys(byStatus).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function kindOf(status) {
  return isFinished(status) ? "finished" : statusKind(status);
}

function finishedCount(row) {
  return Object.entries(row.by_status).reduce((sum, [s, n]) => sum + (isFinished(s) ? n : 0), 0);
}

function statusCell(row, env) {
  const statuses = orderedStatuses(row.by_status).filter((s) => row.by_status[s] > 0);
  const href = (status) => env.taskListHref({ project: row.project, type: row.type, status });
  const segments = statuses.map((status) => ({
    key: status,
    kind: kindOf(status),
    label: statusLabel(status),
    value: row.by_status[status],
    href: href(status),
  }));
  return [
    responsiveBox((width) => stackedBar({ width, segments }), "bar-box"),
    h(
      "ul",
      { class: "status-counts" },
      statuses.map((status) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: href(status), class: "status-count", dataset: { status } },
            h("span", { class: `swatch seg-swatch-${kindOf(status)}`, "aria-hidden": "true" }),
            statusLabel(status),
            " ",
            h("span", { class: "num" }, formatNumber(row.by_status[status])),
          ),
        ),
      ),
    ),
  ];
}

function projectRow(row, env) {
  const finished = finishedCount(row);
  const cells = {
    project: h("span", { class: "project" }, row.project || "—"),
    type: row.type || "—",
    status: statusCell(row, env),
    total: formatNumber(row.total),
    finished: h(
      "span",
      { title: `${formatNumber(finished)} / ${formatNumber(row.total)}` },
      percent(finished, row.total),
    ),
    unclaimed: formatNumber(row.unclaimed),
    oldest: row.unclaimed_oldest_at ? ageElement(row.unclaimed_oldest_at) : "—",
  };
  return h(
    "tr",
    { dataset: { project: row.project, type: row.type } },
    COLUMNS.map((key) =>
      h(
        "td",
        {
          class: `col-p-${key}${["total", "finished", "unclaimed", "oldest"].includes(key) ? " num" : ""}`,
          dataset: { label: t(`overview.p.${key}`), stat: key },
        },
        cells[key],
      ),
    ),
  );
}

/** The projects panel's body for GET /stats/projects. */
export function renderProjects(rows, env) {
  if (!rows.length) return h("p", { class: "empty" }, t("overview.p.empty"));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "tasks overview-projects", "aria-label": t("overview.projects") },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          COLUMNS.map((key) =>
            h("th", { scope: "col", class: `col-p-${key}` }, t(`overview.p.${key}`)),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((row) => projectRow(row, env)),
      ),
    ),
  );
}
