// The task lists: available (claim), mine (open, release), to check, all (managers assign).

import { api, queryString } from "./api.js";
import { h, toast, whileBusy, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { filterBar, isFiltered, noteTaskValues } from "./filters.js";
import { TaskList, CELLS, openLink } from "./tasklist.js";
import { openAssignDialog } from "./assign.js";
import { UNCLAIMED, CLAIMED } from "./roles.js";
import { debounce } from "./live.js";

const LIVE_DEBOUNCE_MS = 250;
const LIVE_MAX_WAIT_MS = 1200;

const FILTERS = {
  available: ["type", "project"],
  mine: ["status", "type", "project"],
  checking: ["status", "type", "project"],
  all: ["status", "user", "checker", "group", "type", "project"],
};

/** The query parameters of GET /api/v1/tasks for a page's filters. */
function listParams(kind, query, me) {
  const params = {};
  for (const key of FILTERS[kind]) if (query[key]) params[key] = query[key];
  if (kind === "available") params.unclaimed = "true";
  if (kind === "mine") params.user = me.name;
  if (kind === "checking") params.checker = me.name;
  params.order =
    query.order === "oldest" || query.order === "newest" ? query.order : defaultOrder(kind);
  return params;
}

function defaultOrder(kind) {
  return kind === "available" ? "oldest" : "newest";
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
    this.actions = h("div", { class: "page-actions" }, this.headerActions());
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
    const order = listParams(this.kind, this.query, this.ctx.me).order;
    return new TaskList({
      label: t(`${this.kind}.title`),
      columns: this.columns(order),
      selectable: this.kind === "all",
      onSort: () => this.apply({ ...this.query, order: order === "newest" ? "oldest" : "newest" }),
      onSelection: () => this.renderSelection(),
      emptyText: () =>
        isFiltered(this.query, FILTERS[this.kind]) ? t("empty.filtered") : t(`empty.${this.kind}`),
      fetchPage: async ({ cursor, limit }) => {
        const params = { ...listParams(this.kind, this.query, this.ctx.me), limit, cursor };
        const page = await api("GET", `/tasks${queryString(params)}`);
        noteTaskValues(page.items);
        return page;
      },
    });
  }

  columns(order) {
    const col = (key, className = `col-${key}`, extra = {}) => ({
      key,
      label: t(`col.${key}`),
      cell: CELLS[key],
      className,
      ...extra,
    });
    const created = col("created", "col-created num", { sort: order });
    if (this.kind === "available") {
      return [
        col("taskId"),
        col("type"),
        col("project"),
        col("status"),
        created,
        col("group"),
        {
          key: "actions",
          label: t("col.actions"),
          className: "col-actions",
          cell: (task) => this.claimButton(task),
        },
      ];
    }
    if (this.kind === "mine") {
      return [
        col("taskId"),
        col("type"),
        col("project"),
        col("status"),
        col("claimed", "col-claimed num"),
        created,
        {
          key: "actions",
          label: t("col.actions"),
          className: "col-actions",
          cell: (task) => this.mineActions(task),
        },
      ];
    }
    if (this.kind === "checking") {
      return [
        col("taskId"),
        col("type"),
        col("project"),
        col("status"),
        col("user"),
        col("updated", "col-updated num"),
        created,
        {
          key: "actions",
          label: t("col.actions"),
          className: "col-actions",
          cell: (task) => openLink(task),
        },
      ];
    }
    return [
      col("taskId"),
      col("type"),
      col("project"),
      col("status"),
      col("user"),
      col("checker"),
      col("group"),
      created,
    ];
  }

  claimButton(task) {
    const claimable = task.ServiceOnline && task.Status === UNCLAIMED && !task.User;
    return h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        disabled: !claimable,
        dataset: { key: "claim" },
        "aria-label": `${t("claim")} ${task.TaskID}`,
        onclick: (event) => this.claim(task, event.currentTarget),
      },
      t("claim"),
    );
  }

  mineActions(task) {
    const release =
      task.Status === CLAIMED
        ? h(
            "button",
            {
              type: "button",
              class: "btn btn-small",
              dataset: { key: "release" },
              "aria-label": `${t("release")} ${task.TaskID}`,
              onclick: (event) => this.release(task, event.currentTarget),
            },
            t("release"),
          )
        : null;
    const link = openLink(task);
    return h(
      "div",
      { class: "row-actions" },
      link || h("span", { class: "muted small" }, t("noLink")),
      release,
    );
  }

  async claim(task, button) {
    await whileBusy(button, async () => {
      try {
        const claimed = await api("POST", `/tasks/${encodeURIComponent(task.ID)}/claim`);
        toast(t("claimed.toast", { id: claimed.TaskID }), {
          kind: "ok",
          action: this.openAction(claimed),
        });
      } catch (error) {
        toast(errorText(error), { kind: "error" });
      }
    });
    this.list.refresh();
  }

  async claimNext() {
    const body = {};
    if (this.kind === "available" && this.query.type) body.type = this.query.type;
    if (this.kind === "available" && this.query.project) body.project = this.query.project;
    await whileBusy(this.claimNextButton, async () => {
      try {
        const claimed = await api("POST", "/tasks/claim-next", body);
        toast(t("claimed.toast", { id: claimed.TaskID }), {
          kind: "ok",
          action: this.openAction(claimed),
        });
      } catch (error) {
        toast(errorText(error), { kind: "error" });
      }
    });
    this.list.refresh();
  }

  openAction(task) {
    const link = openLink(task);
    return link
      ? { label: t("open"), run: () => window.open(link.href, "_blank", "noopener,noreferrer") }
      : null;
  }

  async release(task, button) {
    await whileBusy(button, async () => {
      try {
        await api("POST", `/tasks/${encodeURIComponent(task.ID)}/release`);
        toast(t("released.toast", { id: task.TaskID }), { kind: "ok" });
      } catch (error) {
        toast(errorText(error), { kind: "error" });
      }
    });
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
    replace(this.filterSlot, this.filters.element);
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  renderSelection() {
    if (this.kind !== "all") return;
    const n = this.list.selected.size;
    const filtered = isFiltered(this.query, FILTERS.all);
    this.selectionBar.hidden = false;
    replace(
      this.selectionBar,
      h("span", { class: "selection-count" }, n ? t("selected", { n: formatNumber(n) }) : ""),
      n
        ? h(
            "button",
            { type: "button", class: "btn btn-quiet", onclick: () => this.list.clearSelection() },
            t("clearSelection"),
          )
        : null,
      h("span", { class: "spacer" }),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-primary",
          disabled: n === 0,
          onclick: () => this.assign("ids"),
        },
        `${t("assignSelected")}${n ? ` (${formatNumber(n)})` : ""}`,
      ),
      h(
        "button",
        { type: "button", class: "btn", disabled: !filtered, onclick: () => this.assign("filter") },
        t("assignFiltered"),
      ),
    );
  }

  assign(kind) {
    const filter = {};
    for (const key of FILTERS.all) if (this.query[key]) filter[key] = this.query[key];
    const target = kind === "ids" ? { kind, tasks: this.list.selectedTasks() } : { kind, filter };
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
    const clean = {};
    for (const [key, value] of Object.entries(next)) if (value) clean[key] = value;
    if (clean.order === defaultOrder(this.kind)) delete clean.order;
    this.ctx.navigate(this.kind, "", clean);
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

  focusFilter() {
    this.filters.focus();
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
        const button = this.list.rows.get(task.ID)?.tr.querySelector('[data-key="claim"]');
        if (button && !button.disabled) this.claim(task, button);
        return true;
      }
      case "r": {
        if (this.kind !== "mine" || !task) return false;
        const button = this.list.rows.get(task.ID)?.tr.querySelector('[data-key="release"]');
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
