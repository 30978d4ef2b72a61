// Sign in. The password goes straight into the JSON body and is cleared from the form after.

import { api } from "./api.js";
import { h, whileBusy } from "./dom.js";
import { t, errorText, getLang, setLang } from "./i18n.js";

class LoginPage {
  constructor(ctx) {
    this.ctx = ctx;
  }

  mount(main) {
    const username = h("input", {
      id: "login-username",
      name: "username",
      autocomplete: "username",
      required: true,
      spellcheck: "false",
      autocapitalize: "none",
    });
    const password = h("input", {
      id: "login-password",
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    });
    const error = h("p", { class: "error-text login-error", role: "alert", id: "login-error" });
    if (this.ctx.route.query.expired) error.textContent = t("login.expired");
    const submit = h(
      "button",
      { type: "submit", class: "btn btn-primary btn-wide" },
      t("login.submit"),
    );
    const form = h(
      "form",
      {
        class: "login-form",
        "aria-labelledby": "login-title",
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          await whileBusy(submit, async () => {
            submit.textContent = t("login.busy");
            try {
              const me = await api("POST", "/login", {
                username: username.value.trim(),
                password: password.value,
              });
              password.value = "";
              this.ctx.signedIn(me);
            } catch (exc) {
              password.value = "";
              error.textContent = errorText(exc);
              password.focus();
            } finally {
              submit.textContent = t("login.submit");
            }
          });
        },
      },
      h(
        "div",
        { class: "login-brand" },
        h("span", { class: "logo", "aria-hidden": "true" }, "TD"),
        "TaskDash",
      ),
      h("h1", { id: "login-title" }, t("login.title")),
      h("p", { class: "muted" }, t("login.subtitle")),
      h(
        "div",
        { class: "field" },
        h("label", { for: "login-username" }, t("login.username")),
        username,
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "login-password" }, t("login.password")),
        password,
      ),
      error,
      submit,
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet lang-switch",
          "aria-label": t("lang.switchLabel"),
          onclick: () => {
            setLang(getLang() === "en" ? "zh" : "en");
            this.ctx.rerender();
          },
        },
        t("lang.switch"),
      ),
    );
    main.append(h("div", { class: "login-wrap" }, form));
    username.focus();
  }
}

export const LoginPageFactory = (ctx) => new LoginPage(ctx);
