// What a task looks like in a list: status badges, the editor link, one cell per column, and
// the columns each task page shows. Cells are built as text only.

import { h, ageElement, safeHttpUrl } from "./dom.js";
import { t, statusLabel, statusKind } from "./i18n.js";
import { isFinished } from "./server-settings.js";

/** A status badge: colour by kind (finished as the server counts it), the text always there. */
export function statusBadge(status) {
  const kind = isFinished(status) ? "finished" : statusKind(status);
  return h("span", { class: `badge badge-${kind}` }, statusLabel(status || "—"));
}

export function offlineBadge() {
  return h("span", { class: "badge badge-offline" }, t("serviceOffline"));
}

/** The task's editor link (new tab, no opener) or null when its URL is not http(s). */
export function openLink(task, className = "btn btn-small") {
  const href = safeHttpUrl(task.URL);
  if (!href) return null;
  return h(
    "a",
    {
      class: className,
      href,
      target: "_blank",
      rel: "noopener noreferrer",
      title: t("openTitle"),
      dataset: { key: "open" },
    },
    t("open"),
  );
}

/** Column cells shared by the task pages. */
export const CELLS = {
  taskId: (task) =>
    h(
      "a",
      { class: "mono task-link", href: `#/task/${encodeURIComponent(task.ID)}`, title: task.ID },
      task.TaskID || task.ID,
    ),
  type: (task) => task.TaskType,
  project: (task) => [
    h("span", { class: "project" }, task.ProjectID),
    h("span", { class: "instance muted" }, task.InstanceID),
  ],
  status: (task) => [statusBadge(task.Status), task.ServiceOnline ? null : offlineBadge()],
  created: (task) => ageElement(task.CreateTime),
  claimed: (task) => ageElement(task.ClaimedAt),
  updated: (task) => ageElement(task.UpdatedAt),
  user: (task) => task.User || null,
  checker: (task) => task.Checker || null,
  group: (task) => task.Group || null,
};

// Each page's columns, left to right; "actions" is the page's own row actions.
const LAYOUT = {
  available: ["taskId", "type", "project", "status", "created", "group", "actions"],
  mine: ["taskId", "type", "project", "status", "claimed", "created", "actions"],
  checking: ["taskId", "type", "project", "status", "user", "updated", "created", "actions"],
  all: ["taskId", "type", "project", "status", "user", "checker", "group", "updated", "created"],
};
const TIMES = new Set(["created", "claimed", "updated"]);
// The columns a list can be sorted by, and the API's name of each order.
const SORT_OF = { created: "CreateTime", updated: "UpdatedAt", status: "status", user: "user" };

function sortOf(key, { sort, order }) {
  return { key, order: key === sort ? order : null };
}

/** The columns of page `kind` (sortable ones know whether the list is in their `sort` and
 * `order`), `actions(task)` last. */
export function pageColumns(kind, { sort, order }, actions) {
  return LAYOUT[kind].map((key) => ({
    key,
    label: t(`col.${key}`),
    cell: key === "actions" ? actions : CELLS[key],
    className: TIMES.has(key) ? `col-${key} num` : `col-${key}`,
    ...(SORT_OF[key] ? { sort: sortOf(SORT_OF[key], { sort, order }) } : {}),
  }));
}
