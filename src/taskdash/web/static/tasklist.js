// A keyset-paginated task list: loading/empty/error states, live refresh with highlighted new
// rows, j/k focus, and (for managers) shift-click multi-select.

import { h, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { maxPage } from "./server-settings.js";
import { tableHead, taskRow } from "./task-table.js";
import { RowSelection } from "./row-selection.js";
import { NewRowsPill } from "./new-rows.js";

// The badges and the editor link live in task-cells.js; page-detail.js imports them from here.
export { statusBadge, offlineBadge, openLink } from "./task-cells.js";

export const PAGE_SIZE = 50;
const NEW_ROW_MS = 3000;
// The total is asked apart from the page (a count reads every matching task, which at a
// million tasks takes far longer than a page): after the first page, then on live refreshes
// at most this often.
const RECOUNT_MS = 30000;

export class TaskList {
  /**
   * columns: [{key, label, cell(task, list), className, sort: {key, order} for sortable ones}]
   * fetchPage({cursor, limit, count}) -> {items, next_cursor, total (when count)};
   * emptyText() -> string; selectable: shows checkboxes; onSort(key): a sortable header pressed.
   */
  constructor({ columns, fetchPage, emptyText, selectable = false, onSort, onSelection, label }) {
    this.columns = columns;
    this.fetchPage = fetchPage;
    this.emptyText = emptyText;
    this.selectable = selectable;
    this.onSort = onSort;
    this.onSelection = onSelection;
    this.items = [];
    this.rows = new Map(); // ID -> {sig, tr}
    this.nextCursor = null;
    this.total = null; // every task of the list, over all pages
    this.countedAt = 0;
    this.selected = new RowSelection();
    this.focusId = null;
    this.generation = 0;
    this.busy = false;
    this.pendingRefresh = false;
    this.loaded = false;
    this.build(label);
  }

  build(label) {
    this.status = h("div", { class: "list-status", role: "status", "aria-live": "polite" });
    this.tbody = h("tbody");
    if (this.selectable) {
      this.pageBox = h("input", {
        type: "checkbox",
        "aria-label": t("selectPage"),
        onchange: (e) => this.selectPage(e.target.checked),
      });
    }
    this.table = h(
      "table",
      { class: "tasks task-list", "aria-label": label },
      tableHead(this.columns, { onSort: this.onSort, pageBox: this.pageBox }),
      this.tbody,
    );
    this.count = h("span", { class: "list-count" });
    this.moreButton = h(
      "button",
      { type: "button", class: "btn", hidden: true, onclick: () => this.loadMore() },
      t("loadMore"),
    );
    this.newPill = new NewRowsPill((id) => this.focusRow(id));
    this.element = h(
      "section",
      { class: "list" },
      this.status,
      h("div", { class: "table-wrap" }, this.table),
      h("div", { class: "list-foot" }, this.count, this.moreButton),
      this.newPill.element,
    );
    this.tbody.addEventListener("focusin", (event) => {
      const tr = event.target.closest("tr[data-id]");
      if (tr) this.focusId = tr.dataset.id;
    });
    this.tbody.addEventListener("click", (event) => this.onBodyClick(event));
  }

  /** The first page, replacing what is shown. */
  async load() {
    const generation = ++this.generation;
    this.loaded = false;
    this.showStatus("loading");
    this.busy = true;
    try {
      const page = await this.fetchPage({ cursor: null, limit: PAGE_SIZE });
      if (generation !== this.generation) return;
      this.replaceItems(page, { highlight: false });
      this.loaded = true;
      this.recount(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.items = [];
      this.renderRows(new Set());
      this.showStatus("error", error);
    } finally {
      if (generation === this.generation) this.finishBusy();
    }
  }

  async loadMore() {
    if (!this.nextCursor || this.busy) return;
    const generation = this.generation;
    this.busy = true;
    this.moreButton.disabled = true;
    try {
      const page = await this.fetchPage({ cursor: this.nextCursor, limit: PAGE_SIZE });
      if (generation !== this.generation) return;
      const known = new Set(this.items.map((task) => task.ID));
      this.items = this.items.concat(page.items.filter((task) => !known.has(task.ID)));
      this.nextCursor = page.next_cursor;
      this.renderRows(new Set());
      this.showStatus(this.items.length ? "ok" : "empty");
    } catch (error) {
      this.showStatus("error", error);
    } finally {
      this.moreButton.disabled = false;
      if (generation === this.generation) this.finishBusy();
    }
  }

  /** Re-read what is shown (live updates): as many rows as are loaded, new ones highlighted. */
  async refresh() {
    if (this.busy) {
      this.pendingRefresh = true;
      return;
    }
    if (!this.loaded) return this.load();
    const generation = this.generation;
    this.busy = true;
    try {
      const limit = Math.min(maxPage(PAGE_SIZE), Math.max(PAGE_SIZE, this.items.length));
      const page = await this.fetchPage({ cursor: null, limit });
      if (generation !== this.generation) return;
      this.replaceItems(page, { highlight: true, limit });
      if (Date.now() - this.countedAt >= RECOUNT_MS) this.recount(generation);
    } catch (error) {
      if (generation === this.generation && !this.items.length) this.showStatus("error", error);
    } finally {
      if (generation === this.generation) this.finishBusy();
    }
  }

  /** Take one task's row out at once (it left the list); false when it was not shown. */
  drop(id) {
    if (!this.items.some((task) => task.ID === id)) return false;
    this.items = this.items.filter((task) => task.ID !== id);
    this.selected.delete(id);
    if (this.focusId === id) this.focusId = null;
    this.renderRows(new Set());
    this.showStatus(this.items.length ? "ok" : "empty");
    return true;
  }

  finishBusy() {
    this.busy = false;
    if (this.pendingRefresh) {
      this.pendingRefresh = false;
      this.refresh();
    }
  }

  replaceItems(page, { highlight, limit = PAGE_SIZE }) {
    const before = new Set(this.items.map((task) => task.ID));
    this.items = page.items;
    this.nextCursor = page.items.length >= limit ? page.next_cursor : null;
    const fresh = new Set(
      highlight ? this.items.filter((task) => !before.has(task.ID)).map((task) => task.ID) : [],
    );
    this.selected.keepOnly(this.items);
    this.renderRows(fresh);
    this.showStatus(this.items.length ? "ok" : "empty");
    if (fresh.size) this.newPill.announce(fresh, (id) => this.rows.get(id)?.tr);
  }

  /** Ask for the list's total (shown once it comes; a failure leaves the count without it). */
  async recount(generation) {
    this.countedAt = Date.now();
    try {
      const { total } = await this.fetchPage({ cursor: null, limit: 1, count: true });
      if (generation !== this.generation) return;
      this.total = total;
      this.renderCount();
    } catch {
      this.countedAt = 0;
    }
  }

  showStatus(kind, error = null) {
    replace(this.status);
    this.status.className = `list-status list-status-${kind}`;
    this.table.hidden = kind !== "ok" && !(kind === "loading" && this.items.length);
    if (kind === "loading")
      this.status.append(h("span", { class: "spinner", "aria-hidden": "true" }), t("loading"));
    if (kind === "empty") this.status.append(h("p", { class: "empty" }, this.emptyText()));
    if (kind === "error") {
      this.status.append(
        h("p", { class: "error-text" }, t("error.load", { msg: errorText(error) })),
        h("button", { type: "button", class: "btn", onclick: () => this.load() }, t("retry")),
      );
    }
    this.renderCount();
    this.moreButton.hidden = !this.nextCursor;
  }

  renderCount() {
    const n = formatNumber(this.items.length);
    const total = this.total === null ? null : formatNumber(this.total);
    let count = "";
    if (this.items.length && !this.nextCursor) count = t("shownAll", { n });
    else if (this.items.length) count = total ? t("shownOfTotal", { n, total }) : t("shown", { n });
    this.count.textContent = count;
  }

  renderRows(fresh) {
    const active = document.activeElement;
    const focusKey = this.tbody.contains(active) ? active.dataset.key || "" : null;
    const wanted = [];
    const seen = new Set();
    for (const task of this.items) {
      const sig = JSON.stringify(task);
      let rec = this.rows.get(task.ID);
      if (!rec || rec.sig !== sig) {
        rec = { sig, tr: this.renderRow(task) };
        this.rows.set(task.ID, rec);
      }
      if (fresh.has(task.ID)) {
        rec.tr.classList.add("is-new");
        setTimeout(() => rec.tr.classList.remove("is-new"), NEW_ROW_MS);
      }
      rec.tr.classList.toggle("is-selected", this.selected.has(task.ID));
      const box = rec.tr.querySelector("input.row-select");
      if (box) box.checked = this.selected.has(task.ID);
      wanted.push(rec.tr);
      seen.add(task.ID);
    }
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.rows.delete(id);
    // Move rows only where the order changed, so a focused row keeps its focus.
    wanted.forEach((tr, index) => {
      if (this.tbody.children[index] !== tr)
        this.tbody.insertBefore(tr, this.tbody.children[index] || null);
    });
    while (this.tbody.children.length > wanted.length) this.tbody.lastElementChild.remove();
    if (focusKey !== null && !this.tbody.contains(document.activeElement) && this.focusId) {
      const tr = this.rows.get(this.focusId)?.tr;
      const target =
        (focusKey && tr?.querySelector(`[data-key="${focusKey}"]:not([disabled])`)) || tr;
      target?.focus({ preventScroll: true });
    }
    this.syncPageBox();
  }

  renderRow(task) {
    return taskRow(task, this.columns, { selectable: this.selectable, list: this });
  }

  onBodyClick(event) {
    const box = event.target.closest("input.row-select");
    if (!box) return;
    const id = box.closest("tr").dataset.id;
    this.selected.click(this.items, id, { checked: box.checked, shift: event.shiftKey });
    this.selectionChanged();
  }

  toggleFocused() {
    const task = this.focusedTask();
    if (!task) return;
    this.selected.toggle(task.ID);
    this.selectionChanged();
  }

  selectPage(checked) {
    this.selected.setAll(this.items, checked);
    this.selectionChanged();
  }

  clearSelection() {
    this.selected.clear();
    this.selectionChanged();
  }

  selectionChanged() {
    this.renderRows(new Set());
    this.onSelection?.();
  }

  selectedTasks() {
    return this.selected.selectedOf(this.items);
  }

  syncPageBox() {
    if (this.pageBox) Object.assign(this.pageBox, this.selected.pageState(this.items));
  }

  focusedTask() {
    return this.items.find((task) => task.ID === this.focusId) || null;
  }

  /** j/k: move the focused row by `step`. */
  moveFocus(step) {
    if (!this.items.length) return;
    let index = this.items.findIndex((task) => task.ID === this.focusId);
    index = index < 0 ? (step > 0 ? 0 : this.items.length - 1) : index + step;
    index = Math.max(0, Math.min(this.items.length - 1, index));
    this.focusRow(this.items[index].ID);
  }

  focusRow(id) {
    const tr = this.rows.get(id)?.tr;
    if (!tr) return;
    this.focusId = id;
    tr.focus({ preventScroll: true });
    tr.scrollIntoView({ block: "nearest" });
  }
}
