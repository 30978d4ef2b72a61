// The assign dialog: on selected tasks or every task matching a filter, to one person or spread
// over a group (round_robin / least_loaded), with a preview of who gets how many before committing.

import { api, queryString } from "./api.js";
import { h, toast, whileBusy, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { FINISHED } from "./roles.js";

const MAX_BULK = 10000; // the server's limit per assignment
const PAGE = 1000;
const KEEP = "__keep__";
const CLEAR = "__clear__";

let lastUndo = null;

/** Tasks matching `filter` (up to MAX_BULK, page by page), for the count and for undo. */
async function matchingTasks(filter) {
  const found = [];
  let cursor = null;
  do {
    const page = await api("GET", `/tasks${queryString({ ...filter, limit: PAGE, cursor })}`);
    found.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && found.length < MAX_BULK);
  return { tasks: found.slice(0, MAX_BULK), capped: Boolean(cursor) || found.length > MAX_BULK };
}

/** Unfinished tasks each member holds now (for least_loaded); at most one page per member. */
async function memberLoad(members) {
  const load = {};
  await Promise.all(
    members.map(async (name) => {
      const page = await api("GET", `/tasks${queryString({ user: name, limit: PAGE })}`);
      load[name] = page.items.filter((task) => !FINISHED.includes(task.Status)).length;
    }),
  );
  return load;
}

/** The same plan the server makes (rules.plan_assignment): member -> how many tasks. */
export function planCounts(n, members, strategy, load = {}) {
  const ordered = [...members].sort();
  const counts = Object.fromEntries(ordered.map((m) => [m, 0]));
  if (!ordered.length) return counts;
  if (strategy === "round_robin") {
    ordered.forEach(
      (m, i) => (counts[m] = Math.floor(n / ordered.length) + (i < n % ordered.length ? 1 : 0)),
    );
    return counts;
  }
  const held = Object.fromEntries(ordered.map((m) => [m, load[m] || 0]));
  for (let i = 0; i < n; i += 1) {
    const pick = ordered.reduce((best, m) => (held[m] < held[best] ? m : best), ordered[0]);
    counts[pick] += 1;
    held[pick] += 1;
  }
  return counts;
}

function choice(value) {
  if (value === KEEP) return undefined;
  if (value === CLEAR) return "";
  return value;
}

function select(id, label, options) {
  const el = h(
    "select",
    { id, name: id },
    options.map(([value, text]) => h("option", { value }, text)),
  );
  return { el, field: h("div", { class: "field" }, h("label", { for: id }, label), el) };
}

/** target: {kind: "ids", tasks} | {kind: "filter", filter}; onDone() after a commit. */
export async function openAssignDialog({ target, onDone }) {
  const users = (await api("GET", "/users").catch(() => [])).filter((u) => !u.disabled);
  const groups = [...new Set(users.map((u) => u.group).filter(Boolean))].sort();
  const userOptions = users.map((u) => [u.name, u.group ? `${u.name} · ${u.group}` : u.name]);
  const checkerOptions = users
    .filter((u) => u.role !== "annotator")
    .map((u) => [u.name, `${u.name} · ${t(`role.${u.role}`)}`]);

  let tasks = target.kind === "ids" ? target.tasks : null;
  let capped = false;
  let load = null;
  // Set after the server refused to go beyond someone's claim limit and the manager is shown
  // the reason: the next commit says so explicitly (and the task history records it).
  let overrideLimit = false;

  const dialog = h("dialog", { class: "modal", "aria-labelledby": "assign-title" });
  const targetText = h("p", { class: "assign-target" });
  const modeUser = h("input", {
    type: "radio",
    name: "assign-mode",
    id: "assign-mode-user",
    value: "user",
    checked: true,
  });
  const modeGroup = h("input", {
    type: "radio",
    name: "assign-mode",
    id: "assign-mode-group",
    value: "group",
  });
  const user = select("assign-user", t("assign.user"), [
    [KEEP, t("assign.noChange")],
    [CLEAR, `${t("assign.clear")} ${t("assign.unassigned")}`],
    ...userOptions,
  ]);
  const checker = select("assign-checker", t("assign.checker"), [
    [KEEP, t("assign.noChange")],
    [CLEAR, `${t("assign.clear")} ${t("assign.unassigned")}`],
    ...checkerOptions,
  ]);
  const group = select("assign-group", t("assign.group"), [
    [KEEP, t("assign.noChange")],
    [CLEAR, `${t("assign.clear")} ${t("assign.unassigned")}`],
    ...groups.map((g) => [g, g]),
  ]);
  const spreadGroup = select(
    "assign-spread-group",
    t("assign.group"),
    groups.map((g) => [g, g]),
  );
  const strategy = select("assign-strategy", t("assign.strategy"), [
    ["round_robin", t("assign.roundRobin")],
    ["least_loaded", t("assign.leastLoaded")],
  ]);
  const userFields = h("div", { class: "assign-fields" }, user.field, group.field);
  const groupFields = h(
    "div",
    { class: "assign-fields", hidden: true },
    spreadGroup.field,
    strategy.field,
  );
  const preview = h("div", { class: "assign-preview", role: "status", "aria-live": "polite" });
  const error = h("p", { class: "error-text", role: "alert" });
  const commit = h(
    "button",
    { type: "submit", class: "btn btn-primary", disabled: true },
    t("assign.commit"),
  );
  const cancel = h(
    "button",
    { type: "button", class: "btn", onclick: () => dialog.close() },
    t("cancel"),
  );

  const form = h(
    "form",
    {
      method: "dialog",
      onsubmit: (event) => {
        event.preventDefault();
        run();
      },
    },
    h("h2", { id: "assign-title" }, t("assign.title")),
    targetText,
    h(
      "fieldset",
      { class: "mode" },
      h("legend", {}, t("assign.mode")),
      h("label", { class: "radio" }, modeUser, t("assign.modeUser")),
      h("label", { class: "radio" }, modeGroup, t("assign.modeGroup")),
    ),
    userFields,
    groupFields,
    h("div", { class: "assign-fields" }, checker.field),
    h("h3", {}, t("assign.preview")),
    preview,
    error,
    h("div", { class: "dialog-actions" }, cancel, commit),
  );
  dialog.append(form);
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();

  const spreading = () => modeGroup.checked;

  async function renderPreview() {
    error.textContent = "";
    groupFields.hidden = !spreading();
    userFields.hidden = spreading();
    if (!tasks) {
      replace(preview, t("assign.counting"));
      commit.disabled = true;
      return;
    }
    const n = tasks.length;
    const lines = [];
    const changes = [];
    if (spreading()) {
      const g = spreadGroup.el.value;
      const members = users.filter((u) => u.group === g).map((u) => u.name);
      if (!g || !members.length) {
        replace(preview, h("p", { class: "muted" }, t("assign.noMembers")));
        commit.disabled = true;
        return;
      }
      if (strategy.el.value === "least_loaded" && !load) {
        replace(preview, t("loading"));
        load = await memberLoad(members).catch(() => ({}));
      }
      const counts = planCounts(n, members, strategy.el.value, load || {});
      for (const [name, count] of Object.entries(counts)) {
        const held =
          strategy.el.value === "least_loaded" && load
            ? ` ${t("assign.previewLoad", { n: load[name] || 0 })}`
            : "";
        lines.push(
          h("li", {}, h("span", { class: "num" }, formatNumber(count)), ` → ${name}${held}`),
        );
      }
      changes.push(`${t("assign.group")} = ${g}`);
    } else {
      const u = choice(user.el.value);
      const g = choice(group.el.value);
      if (u !== undefined)
        lines.push(
          h(
            "li",
            {},
            t("assign.previewLine", { n: formatNumber(n), who: u || t("assign.unassigned") }),
          ),
        );
      if (g !== undefined) changes.push(`${t("assign.group")} = ${g || t("assign.unassigned")}`);
    }
    const c = choice(checker.el.value);
    if (c !== undefined) changes.push(`${t("assign.checker")} = ${c || t("assign.unassigned")}`);
    if (!lines.length && !changes.length) {
      replace(preview, h("p", { class: "muted" }, t("assign.previewEmpty")));
      commit.disabled = true;
      return;
    }
    replace(
      preview,
      lines.length ? h("ul", { class: "plan" }, lines) : null,
      changes.length
        ? h(
            "p",
            { class: "plan-changes" },
            lines.length
              ? `${t("assign.alsoSets")}: ${changes.join(" · ")}`
              : `${t("assign.count", { n: formatNumber(n) })} → ${changes.join(" · ")}`,
          )
        : null,
    );
    commit.disabled = n === 0;
  }

  function describeTarget() {
    if (target.kind === "ids") {
      targetText.textContent = t("assign.targetSelected", { n: formatNumber(tasks.length) });
    } else if (!tasks) {
      targetText.textContent = t("assign.targetFiltered");
    } else {
      targetText.textContent = `${t("assign.targetFiltered")} — ${
        capped
          ? t("assign.countCapped", { n: formatNumber(MAX_BULK) })
          : t("assign.count", { n: formatNumber(tasks.length) })
      }`;
    }
  }

  function body() {
    const out =
      target.kind === "ids" ? { ids: tasks.map((task) => task.ID) } : { filter: target.filter };
    if (spreading()) {
      out.group = spreadGroup.el.value;
      out.strategy = strategy.el.value;
    } else {
      const u = choice(user.el.value);
      const g = choice(group.el.value);
      if (u !== undefined) out.user = u;
      if (g !== undefined) out.group = g;
    }
    const c = choice(checker.el.value);
    if (c !== undefined) out.checker = c;
    if (overrideLimit) out.override_limit = true;
    return out;
  }

  async function run() {
    const request = body();
    const before = tasks.map((task) => ({
      ID: task.ID,
      User: task.User,
      Checker: task.Checker,
      Group: task.Group,
    }));
    await whileBusy(commit, async () => {
      try {
        const result = await api("POST", "/tasks/assign", request);
        dialog.close();
        const failed = Object.keys(result.failed);
        lastUndo = undoPlan(before, request, new Set(failed));
        const why = failed.length
          ? ` · ${t("assign.failed", { n: failed.length, why: Object.values(result.failed)[0] })}`
          : "";
        toast(`${t("assign.done", { n: formatNumber(result.assigned) })}${why}`, {
          kind: failed.length ? "error" : "ok",
          timeoutMs: 10000,
          action: lastUndo ? { label: t("assign.undo"), run: () => undoLast(onDone) } : null,
        });
        onDone?.();
      } catch (exc) {
        error.textContent = errorText(exc);
        if (exc.errid === 1008 && !overrideLimit) {
          overrideLimit = true;
          commit.textContent = t("assign.override");
        }
      }
    });
  }

  for (const el of [
    modeUser,
    modeGroup,
    user.el,
    checker.el,
    group.el,
    spreadGroup.el,
    strategy.el,
  ]) {
    el.addEventListener("change", () => {
      if (el === spreadGroup.el) load = null;
      overrideLimit = false;
      commit.textContent = t("assign.commit");
      renderPreview();
    });
  }
  describeTarget();
  renderPreview();
  if (!tasks) {
    try {
      ({ tasks, capped } = await matchingTasks(target.filter));
    } catch (exc) {
      error.textContent = errorText(exc);
      return;
    }
    describeTarget();
    renderPreview();
  }
}

/** Assignments that put back what the last one changed (failed tasks were not changed). */
function undoPlan(before, request, failed) {
  const fields = ["user", "checker", "group"].filter(
    (f) => f in request || (f === "user" && request.strategy),
  );
  const batches = new Map();
  for (const task of before) {
    if (failed.has(task.ID)) continue;
    const prior = {};
    for (const f of fields) prior[f] = task[f[0].toUpperCase() + f.slice(1)] || "";
    const key = JSON.stringify(prior);
    if (!batches.has(key)) batches.set(key, { ...prior, ids: [] });
    batches.get(key).ids.push(task.ID);
  }
  return batches.size ? [...batches.values()] : null;
}

async function undoLast(onDone) {
  const plan = lastUndo;
  lastUndo = null;
  if (!plan) return;
  try {
    for (const batch of plan) await api("POST", "/tasks/assign", batch);
    toast(t("assign.undone"), { kind: "ok" });
  } catch (exc) {
    toast(errorText(exc), { kind: "error" });
  }
  onDone?.();
}
