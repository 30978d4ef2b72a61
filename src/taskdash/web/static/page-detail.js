// One task: every field as text, its actions, and its history (newest first).

import { api } from "./api.js";
import { h, ageElement, exactTime, toast, whileBusy, safeHttpUrl, replace } from "./dom.js";
import { t, errorText, loadErrorText, statusLabel } from "./i18n.js";
import { statusBadge, offlineBadge, openLink } from "./tasklist.js";
import { UNCLAIMED, CLAIMED, isManager } from "./roles.js";

function timeValue(seconds) {
  return seconds
    ? [exactTime(seconds), " · ", ageElement(seconds)]
    : h("span", { class: "muted" }, "—");
}

function fieldValue(task, key) {
  const value = task[key];
  switch (key) {
    case "Status":
      return [statusBadge(value), task.ServiceOnline ? null : offlineBadge()];
    case "CreateTime":
    case "ClaimedAt":
    case "UpdatedAt":
      return timeValue(value);
    case "ServiceOnline":
      return value ? t("yes") : h("span", { class: "badge badge-offline" }, t("no"));
    case "URL": {
      const href = safeHttpUrl(value);
      return href
        ? h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "mono" }, value)
        : h("span", { class: "mono" }, value || "—");
    }
    case "ID":
    case "TaskID":
      return h("span", { class: "mono" }, value);
    case "EditInfo":
    case "Reserved":
      return value ? h("pre", { class: "pre" }, value) : h("span", { class: "muted" }, "—");
    default:
      return value === "" || value === null || value === undefined
        ? h("span", { class: "muted" }, "—")
        : String(value);
  }
}

function change(from, to, render = (v) => v) {
  if (from === to) return to ? render(to) : h("span", { class: "muted" }, "—");
  return h("span", { class: "change" }, from ? render(from) : "—", " → ", to ? render(to) : "—");
}

class DetailPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.id = ctx.route.param;
  }

  mount(main) {
    this.body = h("div", { class: "detail" }, h("p", { class: "list-status" }, t("loading")));
    main.append(
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          { class: "title-block" },
          h(
            "a",
            { href: "#/", class: "back", onclick: (e) => this.back(e) },
            `← ${t("detail.back")}`,
          ),
          h("h1", { id: "page-title" }, t("detail.title")),
        ),
      ),
      this.body,
    );
    this.load();
  }

  back(event) {
    if (history.length > 1) {
      event.preventDefault();
      history.back();
    }
  }

  async load() {
    try {
      const detail = await api("GET", `/tasks/${encodeURIComponent(this.id)}`);
      this.render(detail);
    } catch (error) {
      replace(
        this.body,
        h(
          "div",
          { class: "list-status list-status-error" },
          h(
            "p",
            { class: "error-text" },
            // Any 404 is "no such task": a path no route matches names no task either.
            error.errid === 1006 || error.status === 404
              ? t("detail.notFound")
              : loadErrorText(error),
          ),
          h("button", { type: "button", class: "btn", onclick: () => this.load() }, t("retry")),
        ),
      );
    }
  }

  render({ task, history }) {
    const me = this.ctx.me;
    const actions = h("div", { class: "page-actions" });
    if (task.Status === UNCLAIMED && !task.User && task.ServiceOnline) {
      actions.append(this.actionButton(t("claim"), "btn-primary", "claim"));
    }
    if (task.Status === CLAIMED && (task.User === me.name || isManager(me))) {
      actions.append(this.actionButton(t("release"), "", "release"));
    }
    const link = openLink(task, "btn");
    if (link) actions.append(link);

    // The fields in the server's order (its one task record), each under its JSON key.
    const rows = Object.keys(task).map((key) =>
      h(
        "div",
        { class: "dl-row" },
        h("dt", {}, key === "ServiceOnline" ? t("field.ServiceOnline") : key),
        h("dd", {}, fieldValue(task, key)),
      ),
    );
    const historyTable = history.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "tasks history", "aria-label": t("detail.history") },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["at", "actor", "action", "status", "user", "detail"].map((k) =>
                  h("th", { scope: "col" }, t(`hist.${k}`)),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              history.map((e) =>
                h(
                  "tr",
                  {},
                  h(
                    "td",
                    { class: "num", dataset: { label: t("hist.at") } },
                    h(
                      "time",
                      { class: "age", title: exactTime(e.at), dataset: { ts: String(e.at) } },
                      exactTime(e.at),
                    ),
                  ),
                  h("td", { dataset: { label: t("hist.actor") } }, e.actor || "—"),
                  h(
                    "td",
                    { dataset: { label: t("hist.action") } },
                    t(`action.${e.action}`) === `action.${e.action}`
                      ? e.action
                      : t(`action.${e.action}`),
                  ),
                  h(
                    "td",
                    { dataset: { label: t("hist.status") } },
                    change(e.from_status, e.to_status, statusLabel),
                  ),
                  h("td", { dataset: { label: t("hist.user") } }, change(e.from_user, e.to_user)),
                  h(
                    "td",
                    { class: "col-detail", dataset: { label: t("hist.detail") } },
                    e.detail || "",
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("detail.noHistory"));

    replace(
      this.body,
      h(
        "div",
        { class: "detail-head" },
        h("h2", { class: "mono detail-id" }, task.TaskID || task.ID),
        h("span", {}, statusBadge(task.Status)),
        actions,
      ),
      h("section", { class: "card" }, h("dl", { class: "fields" }, rows)),
      h("section", { class: "card" }, h("h2", {}, t("detail.history")), historyTable),
    );
    // The history shows exact times; keep them exact when ages are refreshed.
    for (const el of this.body.querySelectorAll(".history time.age")) el.classList.remove("age");
  }

  actionButton(label, extra, action) {
    return h(
      "button",
      {
        type: "button",
        class: `btn ${extra}`,
        onclick: (event) =>
          whileBusy(event.currentTarget, async () => {
            try {
              await api("POST", `/tasks/${encodeURIComponent(this.id)}/${action}`);
              toast(t(action === "claim" ? "claimed.toast" : "released.toast", { id: this.id }), {
                kind: "ok",
              });
            } catch (error) {
              toast(errorText(error), { kind: "error" });
            }
            await this.load();
          }),
      },
      label,
    );
  }

  onTask(event) {
    if (event.task_id === this.id) this.load();
  }

  onRemove(event) {
    if (event.task_id === this.id) this.load();
  }

  onReconnect() {
    this.load();
  }
}

export const TaskDetailPage = (ctx) => new DetailPage(ctx);
