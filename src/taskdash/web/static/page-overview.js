// 概览 / Overview: six panels from /api/v1/stats/*; a panel the API refuses (403) is hidden.
// The period and filters live in the URL; live events refetch (debounced), never reload.

import { api } from "./api.js";
import { h, exactTime, replace } from "./dom.js";
import { t, loadErrorText } from "./i18n.js";
import { debounce } from "./live.js";
import { isAdmin, isManager, UNCLAIMED } from "./roles.js";
import { overviewControls } from "./overview-controls.js";
import { overviewState, overviewQuery, statsPath, exportHref } from "./overview-query.js";
import { renderProjects } from "./overview-projects.js";
import { renderThroughput, bucketSwitch } from "./overview-throughput.js";
import { renderPeople } from "./overview-people.js";
import { renderCycle } from "./overview-cycle.js";
import { renderServices } from "./overview-services.js";
import { renderStuck, heldInput } from "./overview-stuck.js";

// Stuck work first: it is what needs acting on.
const PANELS = [
  { key: "stuck", render: renderStuck, tools: heldInput, wide: true },
  { key: "projects", render: renderProjects, wide: true },
  { key: "throughput", render: renderThroughput, tools: bucketSwitch, wide: true },
  { key: "people", render: renderPeople, wide: true },
  { key: "cycle", render: renderCycle },
  { key: "services", render: renderServices },
];
const LIVE_DEBOUNCE_MS = 800;
const LIVE_MAX_WAIT_MS = 3000;

/** "#/route?query" of a task list: managers the all-tasks list, others their own lists. */
function taskListHref(me, query) {
  let route = "all";
  const params = { ...query };
  if (!isManager(me)) {
    route = params.status === UNCLAIMED ? "available" : "mine";
    if (route === "available") delete params.status;
    delete params.user;
    delete params.group;
  }
  const search = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null),
  ).toString();
  return `#/${route}${search ? `?${search}` : ""}`;
}

/** Whether two answers hold the same numbers (the moving since/until aside). */
function sameNumbers(next, previous) {
  if (previous === undefined) return false;
  const numbersOnly = (key, value) => (key === "since" || key === "until" ? undefined : value);
  return JSON.stringify(next, numbersOnly) === JSON.stringify(previous, numbersOnly);
}

/** What finds a focused link or button again in a panel drawn anew. */
function focusKey(el) {
  return { tag: el.tagName, href: el.getAttribute("href"), text: el.textContent };
}

function refocus(body, { tag, href, text }) {
  const match = [...body.querySelectorAll(tag)].find((el) =>
    href ? el.getAttribute("href") === href : el.textContent === text,
  );
  match?.focus();
}

class OverviewPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.query = { ...ctx.route.query };
    this.state = overviewState(this.query);
    this.data = {};
    this.ui = {};
    this.loads = 0;
    this.suggestions = { project: new Set(), type: new Set() };
    this.refreshSoon = debounce(() => this.load(), LIVE_DEBOUNCE_MS, LIVE_MAX_WAIT_MS);
    this.env = {
      me: ctx.me,
      ui: this.ui,
      canSeeDeadLetters: isAdmin(ctx.me),
      taskListHref: (query) => taskListHref(ctx.me, query),
      setQuery: (changes) => ctx.navigate("overview", "", overviewQuery(this.state, changes)),
      rerender: (key) => this.show(PANELS.find((p) => p.key === key)),
    };
  }

  mount(main) {
    this.range = h("p", { class: "hint range" });
    this.download = h(
      "a",
      { class: "btn", download: "", dataset: { key: "export" } },
      t("overview.download"),
    );
    this.controls = h("div", { class: "controls-slot" });
    this.sections = {};
    for (const panel of PANELS) {
      const title = h("h2", { id: `panel-${panel.key}-title` }, t(`overview.${panel.key}`));
      const tools = h("div", { class: "panel-tools" });
      const body = h(
        "div",
        { class: "panel-body" },
        h(
          "p",
          { class: "list-status" },
          h("span", { class: "spinner", "aria-hidden": "true" }),
          t("loading"),
        ),
      );
      const section = h(
        "section",
        {
          class: `card panel panel-${panel.key}${panel.wide ? " panel-wide" : ""}`,
          "aria-labelledby": title.id,
          dataset: { panel: panel.key, state: "loading" },
        },
        h("div", { class: "panel-head" }, title, tools),
        body,
      );
      this.sections[panel.key] = { section, tools, body };
    }
    main.append(
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          { class: "title-block" },
          h("h1", { id: "page-title" }, t("overview.title")),
          this.range,
        ),
        h("div", { class: "page-actions" }, this.download),
      ),
      this.controls,
      h(
        "div",
        { class: "overview-grid" },
        PANELS.map((p) => this.sections[p.key].section),
      ),
    );
    this.renderControls();
    this.load();
  }

  renderControls() {
    const { state } = this;
    replace(
      this.controls,
      overviewControls({ state, setQuery: this.env.setQuery, suggestions: this.suggestions }),
    );
    this.range.textContent = t("overview.range", {
      from: exactTime(state.since),
      to: exactTime(state.until),
    });
    this.download.href = exportHref(state);
    for (const panel of PANELS) {
      replace(this.sections[panel.key].tools, panel.tools ? panel.tools(state, this.env) : null);
    }
  }

  /** Fetch every panel (again); answers of an older round are dropped. */
  async load() {
    if (this.unmounted) return; // a debounced refetch may fire after the page is left
    this.state = overviewState(this.query); // "the last 7 days" moves on with the clock
    this.range.textContent = t("overview.range", {
      from: exactTime(this.state.since),
      to: exactTime(this.state.until),
    });
    const round = ++this.loads;
    await Promise.all(PANELS.map((panel) => this.loadPanel(panel, round)));
  }

  async loadPanel(panel, round) {
    const { section, body } = this.sections[panel.key];
    try {
      const data = await api("GET", statsPath(panel.key, this.state));
      if (round !== this.loads) return;
      const same = sameNumbers(data, this.data[panel.key]);
      this.data[panel.key] = data;
      if (panel.key === "projects") this.noteSuggestions(data);
      if (same && section.dataset.state === "ready") section.dataset.round = String(round);
      else this.show(panel);
    } catch (error) {
      if (round !== this.loads) return;
      if (error.status === 403) {
        section.hidden = true;
        section.dataset.state = "refused";
        return;
      }
      section.dataset.state = "error";
      replace(
        body,
        h(
          "div",
          { class: "list-status list-status-error" },
          h("p", { class: "error-text" }, loadErrorText(error)),
          h(
            "button",
            { type: "button", class: "btn", onclick: () => this.loadPanel(panel, this.loads) },
            t("retry"),
          ),
        ),
      );
    }
  }

  show(panel) {
    const { section, body } = this.sections[panel.key];
    const focused = body.contains(document.activeElement) ? focusKey(document.activeElement) : null;
    section.hidden = false;
    replace(body, panel.render(this.data[panel.key], this.env));
    if (focused) refocus(body, focused);
    section.dataset.state = "ready";
    section.dataset.round = String(this.loads);
  }

  noteSuggestions(rows) {
    const before = this.suggestions.project.size + this.suggestions.type.size;
    for (const row of rows) {
      if (row.project) this.suggestions.project.add(row.project);
      if (row.type) this.suggestions.type.add(row.type);
    }
    if (
      this.suggestions.project.size + this.suggestions.type.size !== before &&
      !this.controls.contains(document.activeElement)
    ) {
      this.renderControls();
    }
  }

  /** Same page, new URL query (period, filters): new controls, every panel fetched again. */
  update(route) {
    this.query = { ...route.query };
    this.state = overviewState(this.query);
    const focusedId = this.controls.contains(document.activeElement)
      ? document.activeElement.id
      : null;
    this.renderControls();
    if (focusedId) document.getElementById(focusedId)?.focus();
    this.load();
    return true;
  }

  unmount() {
    this.unmounted = true;
  }

  focusFilter() {
    document.getElementById("overview-project")?.focus();
  }

  onTask() {
    this.refreshSoon();
  }

  onRemove() {
    this.refreshSoon();
  }

  onService() {
    this.refreshSoon();
  }

  onReconnect() {
    this.load();
  }
}

export const OverviewPageFactory = (ctx) => new OverviewPage(ctx);
