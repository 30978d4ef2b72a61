// The task table's markup: a header whose time column sorts, and one row per task (with a
// checkbox where rows can be selected).

import { h } from "./dom.js";
import { t } from "./i18n.js";

function sortHeader(col, onSort) {
  const newest = col.sort === "newest";
  const button = h(
    "button",
    { type: "button", class: "sort", title: t(`sort.${col.sort}`), onclick: () => onSort?.() },
    col.label,
    h("span", { class: "sort-arrow", "aria-hidden": "true" }, newest ? "↓" : "↑"),
  );
  return h(
    "th",
    { scope: "col", class: col.className, "aria-sort": newest ? "descending" : "ascending" },
    button,
  );
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
