// The task table's markup: a header whose sortable columns sort the list, and one row per task (with a
// checkbox where rows can be selected).

import { h } from "./dom.js";
import { t } from "./i18n.js";

function sortHeader(col, onSort) {
  const { key, order } = col.sort; // order: "newest" | "oldest" when the list is in this sort
  const title = order
    ? t(order === "newest" ? "sort.desc" : "sort.asc", { col: col.label })
    : t("sort.by", { col: col.label });
  const arrow = order ? (order === "newest" ? "↓" : "↑") : "↕";
  const button = h(
    "button",
    { type: "button", class: "sort", title, onclick: () => onSort?.(key) },
    col.label,
    h("span", { class: `sort-arrow${order ? "" : " is-idle"}`, "aria-hidden": "true" }, arrow),
  );
  const ariaSort = order ? (order === "newest" ? "descending" : "ascending") : "none";
  return h("th", { scope: "col", class: col.className, "aria-sort": ariaSort }, button);
}

/** The header row; `pageBox` (select the page) leads it when given. */
export function tableHead(columns, { onSort, pageBox = null }) {
  const cells = columns.map((col) =>
    col.sort ? sortHeader(col, onSort) : h("th", { scope: "col", class: col.className }, col.label),
  );
  if (pageBox) cells.unshift(h("th", { scope: "col", class: "col-select" }, pageBox));
  return h("thead", {}, h("tr", {}, cells));
}

/** One task's row: a cell per column ("—" when empty), led by a checkbox when `selectable`. */
export function taskRow(task, columns, { selectable, list }) {
  const cells = columns.map((col) => {
    const attrs = { class: col.className, dataset: { label: col.label } };
    const td = h("td", attrs, col.cell(task, list));
    if (!td.hasChildNodes()) {
      td.classList.add("is-empty");
      td.append(h("span", { class: "muted", "aria-label": "—" }, "—"));
    }
    return td;
  });
  if (selectable) {
    const box = h("input", {
      type: "checkbox",
      class: "row-select",
      "aria-label": t("selectRow", { id: task.TaskID || task.ID }),
      dataset: { key: "select" },
    });
    cells.unshift(h("td", { class: "col-select" }, box));
  }
  return h("tr", { tabindex: "-1", dataset: { id: task.ID } }, cells);
}
