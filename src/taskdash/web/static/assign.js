// The assign dialog: on selected tasks or every task matching a filter, to one person or spread
// over a group (round_robin / least_loaded), previewing the server's plan before committing.

import { api, queryString } from "./api.js";
import { h, toast, whileBusy, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { serverSettings } from "./server-settings.js";
import { memberChoices, assignFields } from "./assign-form.js";
import { fetchPlan, planView, emptyView } from "./assign-preview.js";
import { rememberUndo } from "./assign-undo.js";

/** Tasks matching `filter` (up to the server's bulk limit, page by page), kept for undo. */
async function matchingTasks(filter, { max_page: limit, max_bulk_assign: most }) {
  const found = [];
  let cursor = null;
  do {
    const page = await api("GET", `/tasks${queryString({ ...filter, limit, cursor })}`);
    found.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && found.length < most);
  return { tasks: found.slice(0, most), capped: Boolean(cursor) || found.length > most };
}

class AssignDialog {
  /** target: {kind: "ids", tasks} | {kind: "filter", filter}; onDone() after a commit. */
  constructor({ target, onDone, users, settings }) {
    this.target = target;
    this.onDone = onDone;
    this.settings = settings;
    this.tasks = target.kind === "ids" ? target.tasks : null;
    this.capped = false;
    // Set after the server refused to go beyond someone's claim limit and the manager is shown
    // the reason: the next commit says so explicitly (and the task history records it).
    this.overrideLimit = false;
    this.previews = 0; // answers to older preview requests are dropped
    this.fields = assignFields(memberChoices(users));
    this.build();
  }

  build() {
    this.dialog = h("dialog", { class: "modal", "aria-labelledby": "assign-title" });
    this.targetText = h("p", { class: "assign-target" });
    this.preview = h("div", { class: "assign-preview", role: "status", "aria-live": "polite" });
    this.error = h("p", { class: "error-text", role: "alert" });
    this.commit = h(
      "button",
      { type: "submit", class: "btn btn-primary", disabled: true },
      t("assign.commit"),
    );
    const cancel = h(
      "button",
      { type: "button", class: "btn", onclick: () => this.dialog.close() },
      t("cancel"),
    );
    const onsubmit = (event) => {
      event.preventDefault();
      this.submit();
    };
    this.dialog.append(
      h(
        "form",
        { method: "dialog", onsubmit },
        h("h2", { id: "assign-title" }, t("assign.title")),
        this.targetText,
        this.fields.elements,
        h("h3", {}, t("assign.preview")),
        this.preview,
        this.error,
        h("div", { class: "dialog-actions" }, cancel, this.commit),
      ),
    );
    for (const input of this.fields.inputs) input.addEventListener("change", () => this.changed());
  }

  async open() {
    document.body.append(this.dialog);
    this.dialog.addEventListener("close", () => this.dialog.remove());
    this.dialog.showModal();
    this.describeTarget();
    this.renderPreview();
    if (this.tasks) return;
    try {
      ({ tasks: this.tasks, capped: this.capped } = await matchingTasks(
        this.target.filter,
        this.settings,
      ));
    } catch (exc) {
      this.error.textContent = errorText(exc);
      return;
    }
    this.describeTarget();
    this.renderPreview();
  }

  changed() {
    this.overrideLimit = false;
    this.commit.textContent = t("assign.commit");
    this.renderPreview();
  }

  describeTarget() {
    const n = (count) => formatNumber(count);
    if (this.target.kind === "ids") {
      this.targetText.textContent = t("assign.targetSelected", { n: n(this.tasks.length) });
    } else if (!this.tasks) {
      this.targetText.textContent = t("assign.targetFiltered");
    } else {
      const count = this.capped
        ? t("assign.countCapped", { n: n(this.settings.max_bulk_assign) })
        : t("assign.count", { n: n(this.tasks.length) });
      this.targetText.textContent = `${t("assign.targetFiltered")} — ${count}`;
    }
  }

  /** The assign body: the target and the fields' change. */
  request() {
    const target =
      this.target.kind === "ids"
        ? { ids: this.tasks.map((task) => task.ID) }
        : { filter: this.target.filter };
    return { ...target, ...this.fields.change() };
  }

  async renderPreview() {
    const serial = ++this.previews;
    this.error.textContent = "";
    this.fields.showMode();
    const request = this.tasks && this.request();
    const empty = !this.tasks
      ? t("assign.counting")
      : this.fields.lacksGroup()
        ? emptyView("assign.noMembers")
        : Object.keys(this.fields.change()).length === 0
          ? emptyView("assign.previewEmpty")
          : null;
    if (empty) {
      replace(this.preview, empty);
      this.commit.disabled = true;
      return;
    }
    this.preview.setAttribute("aria-busy", "true");
    try {
      const plan = await fetchPlan(request);
      if (serial !== this.previews) return;
      replace(this.preview, planView(plan, request));
      this.commit.disabled = plan.tasks === 0;
    } catch (exc) {
      if (serial !== this.previews) return;
      replace(this.preview);
      this.error.textContent = errorText(exc);
      this.commit.disabled = true;
    } finally {
      if (serial === this.previews) this.preview.removeAttribute("aria-busy");
    }
  }

  async submit() {
    const request = this.request();
    if (this.overrideLimit) request.override_limit = true;
    await whileBusy(this.commit, async () => {
      try {
        const result = await api("POST", "/tasks/assign", request);
        this.dialog.close();
        this.announce(result, request);
        this.onDone?.();
      } catch (exc) {
        this.error.textContent = errorText(exc);
        if (exc.errid === 1008 && !this.overrideLimit) {
          this.overrideLimit = true;
          this.commit.textContent = t("assign.override");
        }
      }
    });
  }

  /** The toast after a commit: how many, why some failed, and undo. */
  announce(result, request) {
    const failed = Object.keys(result.failed);
    const undo = rememberUndo(this.tasks, request, new Set(failed), this.onDone);
    const why = failed.length
      ? ` · ${t("assign.failed", { n: failed.length, why: Object.values(result.failed)[0] })}`
      : "";
    toast(`${t("assign.done", { n: formatNumber(result.assigned) })}${why}`, {
      kind: failed.length ? "error" : "ok",
      timeoutMs: 10000,
      action: undo,
    });
  }
}

/** Open the assign dialog on `target`; `onDone()` runs after a commit (and after its undo). */
export async function openAssignDialog({ target, onDone }) {
  let settings;
  try {
    settings = await serverSettings();
  } catch (exc) {
    toast(errorText(exc), { kind: "error" });
    return;
  }
  const users = await api("GET", "/users").catch(() => []);
  await new AssignDialog({ target, onDone, users, settings }).open();
}
