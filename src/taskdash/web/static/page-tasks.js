// The task lists: available (claim), mine (open, release), to check, all (managers assign).

import { api, queryString } from "./api.js";
import { h, formatNumber, replace } from "./dom.js";
import { t } from "./i18n.js";
import { filterBar, isFiltered, loadSuggestions, noteTaskValues } from "./filters.js";
import { TaskList } from "./tasklist.js";
import { openLink, pageColumns } from "./task-cells.js";
import {
  FILTERS,
  assignFilter,
  exportUrl,
  listOrder,
  listParams,
  listSort,
  sortedQuery,
  urlQuery,
} from "./list-query.js";
import { claimTask, claimNextTask, releaseTask, claimButton, mineActions } from "./task-actions.js";
import { openAssignDialog } from "./assign.js";
import { debounce } from "./live.js";
import { linkFilterChips } from "./link-filters.js";

const LIVE_DEBOUNCE_MS = 250;
const LIVE_MAX_WAIT_MS = 1200;

/** The manager's bar over the list: how many are selected, and the two ways to assign. */
function selectionBar({ n, filtered, onClear, onAssign }) {
  const clear = t("clearSelection");
  return [
    h("span", { class: "selection-count" }, n ? t("selected", { n: formatNumber(n) }) : ""),
    n ? h("button", { type: "button", class: "btn btn-quiet", onclick: onClear }, clear) : null,
    h("span", { class: "spacer" }),
    h(
      "button",
      { type: "button", class: "btn btn-primary", disabled: !n, onclick: () => onAssign("ids") },
      `${t("assignSelected")}${n ? ` (${formatNumber(n)})` : ""}`,
    ),
    h(
      "button",
      { type: "button", class: "btn", disabled: !filtered, onclick: () => onAssign("filter") },
      t("assignFiltered"),
    ),
  ];
}

class TaskListPage {
  constructor(ctx, kind) {
    this.ctx = ctx;
    this.kind = kind;
    this.query = { ...ctx.route.query };
    // Many events in a burst cost one reload; a steady stream still reloads at least every 1.2 s.
    this.refreshSoon = debounce(() => this.list.refresh(), LIVE_DEBOUNCE_MS, LIVE_MAX_WAIT_MS);
  }

  mount(main) {
    this.main = main;
    this.heading = h("h1", { id: "page-title" }, t(`${this.kind}.title`));
    this.download = h(
      "a",
      { class: "btn", download: "", title: t("downloadTitle"), dataset: { key: "download" } },
      t("download"),
    );
    this.actions = h("div", { class: "page-actions" }, this.headerActions(), this.download);
    this.filterSlot = h("div", { class: "filter-slot" });
    this.selectionBar = h("div", { class: "selection-bar", hidden: true });
    this.list = this.makeList();
    main.append(
      h(
        "div",
        { class: "page-head" },
        h("div", { class: "title-block" }, this.heading, this.subtitle()),
        this.actions,
      ),
      this.filterSlot,
      this.selectionBar,
      this.list.element,
    );
    this.renderFilters();
    this.renderSelection();
    this.list.load();
    loadSuggestions();
  }

  subtitle() {
    return this.kind === "available" ? h("p", { class: "hint" }, t("available.hint")) : null;
  }

  headerActions() {
    if (this.kind === "all" || this.kind === "checking") return [];
    this.claimNextButton = h(
      "button",
      {
        type: "button",
        class: "btn btn-primary",
        onclick: () => this.claimNext(),
        dataset: { key: "claim-next" },
      },
      t("claimNext"),
      h("kbd", { class: "kbd-hint", "aria-hidden": "true" }, "n"),
    );
    return [this.claimNextButton];
  }

  makeList() {
    const order = { sort: listSort(this.query), order: listOrder(this.kind, this.query) };
    this.download.href = exportUrl(this.kind, this.query, this.ctx.me);
    return new TaskList({
      label: t(`${this.kind}.title`),
      columns: pageColumns(this.kind, order, (task) => this.rowActions(task)),
      selectable: this.kind === "all",
      onSort: (sort) => this.apply(sortedQuery(this.kind, this.query, sort)),
      onSelection: () => this.renderSelection(),
      emptyText: () =>
        isFiltered(this.query, FILTERS[this.kind]) ? t("empty.filtered") : t(`empty.${this.kind}`),
      fetchPage: async ({ cursor, limit, count }) => {
        const params = { ...listParams(this.kind, this.query, this.ctx.me), limit, cursor };
        if (count) params.count = "true";
        const page = await api("GET", `/tasks${queryString(params)}`);
        noteTaskValues(page.items);
        return page;
      },
    });
  }

  rowActions(task) {
    if (this.kind === "available") return claimButton(task, (button) => this.claim(task, button));
    if (this.kind === "mine") return mineActions(task, (button) => this.release(task, button));
    return openLink(task);
  }

  async claim(task, button) {
    await claimTask(task, button);
    this.list.refresh();
  }

  async claimNext() {
    const filter = {};
    if (this.kind === "available" && this.query.type) filter.type = this.query.type;
    if (this.kind === "available" && this.query.project) filter.project = this.query.project;
    await claimNextTask(this.claimNextButton, filter);
    this.list.refresh();
  }

  async release(task, button) {
    await releaseTask(task, button);
    this.list.refresh();
  }

  renderFilters() {
    const focusedId = this.filterSlot.contains(document.activeElement)
      ? document.activeElement.id
      : null;
    this.filters = filterBar({
      fields: FILTERS[this.kind],
      query: this.query,
      apply: (next) => this.apply(next),
      idPrefix: `f-${this.kind}`,
    });
    replace(
      this.filterSlot,
      this.filters.element,
      linkFilterChips(this.query, (next) => this.apply(next)),
    );
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  renderSelection() {
    if (this.kind !== "all") return;
    this.selectionBar.hidden = false;
    replace(
      this.selectionBar,
      selectionBar({
        n: this.list.selected.size,
        filtered: isFiltered(this.query, FILTERS.all),
        onClear: () => this.list.clearSelection(),
        onAssign: (kind) => this.assign(kind),
      }),
    );
  }

  assign(kind) {
    const target =
      kind === "ids"
        ? { kind, tasks: this.list.selectedTasks() }
        : { kind, filter: assignFilter(this.query) };
    openAssignDialog({
      target,
      onDone: () => {
        this.list.clearSelection();
        this.list.refresh();
      },
    });
  }

  /** Navigate to the same page with other filters (the URL is the state). */
  apply(next) {
    this.ctx.navigate(this.kind, "", urlQuery(this.kind, next));
  }

  /** Same page, new URL query: rebuild filters and list without a full remount. */
  update(route) {
    this.query = { ...route.query };
    this.renderFilters();
    const fresh = this.makeList();
    this.list.element.replaceWith(fresh.element);
    this.list = fresh;
    this.renderSelection();
    this.list.load();
    return true;
  }

  // ---- live updates: a task changed, left this user's lists, or the stream came back

  onTask() {
    this.refreshSoon();
  }

  /** A task left this user's lists: drop its row now, then re-read the page (fill, counts). */
  onRemove({ task_id: id }) {
    if (this.list.drop(id)) this.renderSelection();
    this.refreshSoon();
  }

  onReconnect() {
    this.list.refresh();
  }

  // ---- keyboard

  focusFilter() {
    this.filters.focus();
  }

  /** The focused row's button `key` (claim, release), when shown. */
  rowButton(task, key) {
    return this.list.rows.get(task.ID)?.tr.querySelector(`[data-key="${key}"]`);
  }

  onKey(key) {
    const task = this.list.focusedTask();
    switch (key) {
      case "j":
        this.list.moveFocus(1);
        return true;
      case "k":
        this.list.moveFocus(-1);
        return true;
      case "n":
        if (!this.claimNextButton) return false;
        this.claimNext();
        return true;
      case "c": {
        if (this.kind !== "available" || !task) return false;
        const button = this.rowButton(task, "claim");
        if (button && !button.disabled) this.claim(task, button);
        return true;
      }
      case "r": {
        if (this.kind !== "mine" || !task) return false;
        const button = this.rowButton(task, "release");
        if (button) this.release(task, button);
        return true;
      }
      case "x":
        if (this.kind !== "all") return false;
        this.list.toggleFocused();
        return true;
      case "Enter":
        if (!task) return false;
        location.hash = `#/task/${encodeURIComponent(task.ID)}`;
        return true;
      default:
        return false;
    }
  }
}

export const AvailablePage = (ctx) => new TaskListPage(ctx, "available");
export const MinePage = (ctx) => new TaskListPage(ctx, "mine");
export const AllTasksPage = (ctx) => new TaskListPage(ctx, "all");
export const CheckingPage = (ctx) => new TaskListPage(ctx, "checking");
