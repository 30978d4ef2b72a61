// Admin pages: dead letters (cursor-paginated) and user accounts (create, disable, enable).

import { api, queryString } from "./api.js";
import { h, ageElement, toast, whileBusy, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";

const DEAD_PAGE = 50;
const ROLES = ["annotator", "checker", "manager", "admin"];

function errorBlock(error, retry) {
  return h(
    "div",
    { class: "list-status list-status-error" },
    h("p", { class: "error-text" }, t("error.load", { msg: errorText(error) })),
    h("button", { type: "button", class: "btn", onclick: retry }, t("retry")),
  );
}

/** "512 bytes", "64 KiB", "1.5 MiB". */
function formatBytes(n) {
  if (n < 1024) return t("dead.bytes", { n: formatNumber(n) });
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / (1024 * 1024), "MiB"];
  return `${formatNumber(Math.round(value * 10) / 10)} ${unit}`;
}

/** A dead letter's whole size, and a "truncated" badge when only its start is shown. */
function sizeCell(d) {
  const badge = h(
    "span",
    { class: "badge badge-claimed", title: t("dead.truncatedHint", { sha256: d.sha256 }) },
    t("dead.truncated"),
  );
  return [formatBytes(d.size), d.truncated ? [" ", badge] : null];
}

class DeadLettersPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.items = [];
    this.cursor = null;
  }

  mount(main) {
    this.total = h("span", { class: "list-count" });
    this.body = h("div", {}, h("p", { class: "list-status" }, t("loading")));
    main.append(
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          { class: "title-block" },
          h("h1", { id: "page-title" }, t("dead.title")),
          this.total,
        ),
      ),
      this.body,
    );
    this.load();
  }

  async load(more = false) {
    try {
      const page = await api(
        "GET",
        `/dead-letters${queryString({ limit: DEAD_PAGE, cursor: more ? this.cursor : null })}`,
      );
      this.items = more ? this.items.concat(page.items) : page.items;
      this.cursor = page.next_cursor;
      this.total.textContent = t("dead.total", { n: formatNumber(page.total) });
      this.render();
    } catch (error) {
      replace(
        this.body,
        errorBlock(error, () => this.load()),
      );
    }
  }

  render() {
    if (!this.items.length) {
      replace(this.body, h("p", { class: "empty" }, t("dead.empty")));
      return;
    }
    const cols = ["at", "topic", "reason", "attempts", "size", "body"];
    const more = h(
      "button",
      {
        type: "button",
        class: "btn",
        hidden: !this.cursor,
        onclick: (event) => whileBusy(event.currentTarget, () => this.load(true)),
      },
      t("loadMore"),
    );
    replace(
      this.body,
      h(
        "section",
        { class: "list" },
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "tasks dead", "aria-label": t("dead.title") },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                cols.map((c) => h("th", { scope: "col", class: `col-${c}` }, t(`dead.${c}`))),
              ),
            ),
            h(
              "tbody",
              {},
              this.items.map((d) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "num", dataset: { label: t("dead.at") } }, ageElement(d.at)),
                  h("td", { class: "mono", dataset: { label: t("dead.topic") } }, d.topic),
                  h("td", { class: "col-reason", dataset: { label: t("dead.reason") } }, d.reason),
                  h(
                    "td",
                    { class: "num", dataset: { label: t("dead.attempts") } },
                    formatNumber(d.attempts),
                  ),
                  h(
                    "td",
                    { class: "num col-size", dataset: { label: t("dead.size") } },
                    sizeCell(d),
                  ),
                  h(
                    "td",
                    { class: "col-body", dataset: { label: t("dead.body") } },
                    h(
                      "details",
                      {},
                      h("summary", { class: "mono" }, d.body.slice(0, 80) || "∅"),
                      h("pre", { class: "pre" }, d.body),
                      h("p", { class: "mono hint" }, t("dead.sha256", { sha256: d.sha256 })),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
        h(
          "div",
          { class: "list-foot" },
          h(
            "span",
            { class: "list-count" },
            this.cursor ? t("shown", { n: formatNumber(this.items.length) }) : "",
          ),
          more,
        ),
      ),
    );
  }
}

class UsersPage {
  constructor(ctx) {
    this.ctx = ctx;
  }

  mount(main) {
    this.body = h("div", {}, h("p", { class: "list-status" }, t("loading")));
    main.append(
      h(
        "div",
        { class: "page-head" },
        h("div", { class: "title-block" }, h("h1", { id: "page-title" }, t("users.title"))),
      ),
      this.createForm(),
      this.body,
    );
    this.load();
  }

  createForm() {
    const field = (id, label, input) =>
      h("div", { class: "field" }, h("label", { for: id }, label), input);
    const name = h("input", {
      id: "new-user-name",
      name: "name",
      required: true,
      maxlength: "64",
      autocomplete: "off",
      spellcheck: "false",
    });
    const role = h(
      "select",
      { id: "new-user-role", name: "role" },
      ROLES.map((r) => h("option", { value: r }, `${t(`role.${r}`)} (${r})`)),
    );
    const group = h("input", { id: "new-user-group", name: "group", autocomplete: "off" });
    const password = h("input", {
      id: "new-user-password",
      name: "password",
      type: "password",
      required: true,
      minlength: "8",
      autocomplete: "new-password",
    });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, t("users.add"));
    const error = h("p", { class: "error-text", role: "alert" });
    const form = h(
      "form",
      {
        class: "card user-form",
        "aria-labelledby": "new-user-title",
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          await whileBusy(submit, async () => {
            try {
              const created = await api("POST", "/users", {
                name: name.value.trim(),
                role: role.value,
                group: group.value.trim(),
                password: password.value,
              });
              form.reset();
              toast(t("users.created", { name: created.name }), { kind: "ok" });
              this.load();
            } catch (exc) {
              error.textContent = errorText(exc);
            } finally {
              password.value = ""; // never keep a password around in the page
            }
          });
        },
      },
      h("h2", { id: "new-user-title" }, t("users.add")),
      h(
        "div",
        { class: "form-row" },
        field("new-user-name", t("users.name"), name),
        field("new-user-role", t("users.role"), role),
        field("new-user-group", t("users.group"), group),
        field("new-user-password", t("users.password"), password),
        h("div", { class: "field field-actions" }, submit),
      ),
      error,
    );
    return form;
  }

  async load() {
    try {
      this.render(await api("GET", "/users"));
    } catch (error) {
      replace(
        this.body,
        errorBlock(error, () => this.load()),
      );
    }
  }

  render(users) {
    if (!users.length) {
      replace(this.body, h("p", { class: "empty" }, t("users.empty")));
      return;
    }
    const cols = ["name", "role", "group", "lang", "state"];
    replace(
      this.body,
      h(
        "section",
        { class: "list" },
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "tasks users", "aria-label": t("users.title") },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                cols.map((c) => h("th", { scope: "col" }, t(`users.${c}`))),
                h("th", { scope: "col" }, t("col.actions")),
              ),
            ),
            h(
              "tbody",
              {},
              users.map((u) =>
                h(
                  "tr",
                  { class: u.disabled ? "is-disabled" : "" },
                  h("td", { class: "mono", dataset: { label: t("users.name") } }, u.name),
                  h("td", { dataset: { label: t("users.role") } }, t(`role.${u.role}`)),
                  h(
                    "td",
                    { dataset: { label: t("users.group") } },
                    u.group || h("span", { class: "muted" }, "—"),
                  ),
                  h("td", { dataset: { label: t("users.lang") } }, u.lang),
                  h(
                    "td",
                    { dataset: { label: t("users.state") } },
                    h(
                      "span",
                      { class: `badge ${u.disabled ? "badge-offline" : "badge-finished"}` },
                      u.disabled ? t("users.disabled") : t("users.active"),
                    ),
                  ),
                  h(
                    "td",
                    { class: "col-actions", dataset: { label: t("col.actions") } },
                    u.name === this.ctx.me.name
                      ? null
                      : h(
                          "button",
                          {
                            type: "button",
                            class: "btn btn-small",
                            "aria-label": `${u.disabled ? t("users.enable") : t("users.disable")} ${u.name}`,
                            onclick: (event) =>
                              this.setDisabled(u, !u.disabled, event.currentTarget),
                          },
                          u.disabled ? t("users.enable") : t("users.disable"),
                        ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async setDisabled(user, disabled, button) {
    await whileBusy(button, async () => {
      try {
        await api("PATCH", `/users/${encodeURIComponent(user.name)}`, { disabled });
        toast(t("users.changed", { name: user.name }), { kind: "ok" });
      } catch (error) {
        toast(errorText(error), { kind: "error" });
      }
    });
    this.load();
  }
}

export const DeadLettersPageFactory = (ctx) => new DeadLettersPage(ctx);
export const UsersPageFactory = (ctx) => new UsersPage(ctx);
