// TaskDash front end: session, a hash router (#/page/param?filters), the header, live updates
// and keyboard shortcuts. Every page is built from the API with text nodes only.

import { api, onSessionLost } from "./api.js";
import { h, refreshAges, toast, replace } from "./dom.js";
import { t, getLang, setLang, errorText } from "./i18n.js";
import { LiveStream } from "./live.js";
import { hasRole } from "./roles.js";
import { loadServerSettings } from "./server-settings.js";
import { LoginPageFactory } from "./page-login.js";
import { AvailablePage, MinePage, CheckingPage, AllTasksPage } from "./page-tasks.js";
import { TaskDetailPage } from "./page-detail.js";
import { ServicesPageFactory } from "./page-services.js";
import { OverviewPageFactory } from "./page-overview.js";
import { DeadLettersPageFactory, UsersPageFactory } from "./page-admin.js";

const ROUTES = {
  login: { page: LoginPageFactory, public: true },
  available: { page: AvailablePage, nav: "nav.available" },
  mine: { page: MinePage, nav: "nav.mine" },
  checking: { page: CheckingPage, nav: "nav.checking", role: "checker" },
  all: { page: AllTasksPage, nav: "nav.all", role: "manager" },
  task: { page: TaskDetailPage },
  overview: { page: OverviewPageFactory, nav: "nav.overview" },
  services: { page: ServicesPageFactory, nav: "nav.services" },
  "dead-letters": { page: DeadLettersPageFactory, nav: "nav.deadLetters", role: "admin" },
  users: { page: UsersPageFactory, nav: "nav.users", role: "admin" },
};
const DEFAULT_ROUTE = "available";
const AGE_REFRESH_MS = 15000;
const LIVE_RETRY_MS = 5000;

const state = { me: null, page: null, route: null, live: null, liveState: "connecting" };

/** A path segment decoded; one with a broken %-escape (typed by hand) stays as it is. */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const [name, ...rest] = path.split("/");
  return {
    name: ROUTES[name] ? name : name ? null : DEFAULT_ROUTE,
    param: rest.map(decodeSegment).join("/"),
    query: Object.fromEntries(new URLSearchParams(search)),
  };
}

function hashFor(name, param = "", query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  return `#/${name}${param ? `/${encodeURIComponent(param)}` : ""}${search ? `?${search}` : ""}`;
}

function navigate(name, param = "", query = {}) {
  const next = hashFor(name, param, query);
  if (location.hash !== next) location.hash = next;
}

function context(route) {
  return {
    me: state.me,
    route,
    navigate,
    rerender: () => render({ force: true }),
    signedIn,
  };
}

// ---- header ---------------------------------------------------------------------------------

function liveIndicator() {
  const down = state.liveState === "down";
  const connecting = state.liveState === "connecting";
  return h(
    "span",
    {
      id: "live-indicator",
      class: `live live-${state.liveState}`,
      role: "status",
      title: down ? t("live.down") : t("live.okTitle"),
      dataset: { state: state.liveState },
    },
    h("span", { class: "live-dot", "aria-hidden": "true" }),
    h(
      "span",
      { class: "live-text" },
      down ? t("live.down") : connecting ? t("live.connecting") : t("live.ok"),
    ),
  );
}

function renderHeader() {
  const header = document.getElementById("topbar");
  if (!state.me) {
    header.hidden = true;
    replace(header);
    return;
  }
  const current = state.route?.name;
  const links = Object.entries(ROUTES)
    .filter(([, r]) => r.nav && (!r.role || hasRole(state.me, r.role)))
    .map(([name, r]) =>
      h(
        "a",
        { href: `#/${name}`, class: "nav-link", "aria-current": name === current ? "page" : null },
        t(r.nav),
      ),
    );
  header.hidden = false;
  replace(
    header,
    h(
      "a",
      { href: "#/available", class: "brand" },
      h("span", { class: "logo", "aria-hidden": "true" }, "TD"),
      h("span", { class: "brand-name" }, "TaskDash"),
    ),
    h("nav", { class: "nav", "aria-label": t("nav.label") }, links),
    h(
      "div",
      { class: "tools" },
      liveIndicator(),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet icon-btn",
          "aria-label": t("help.button"),
          title: t("help.button"),
          onclick: toggleHelp,
        },
        "?",
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet",
          id: "lang-switch",
          "aria-label": t("lang.switchLabel"),
          onclick: switchLanguage,
        },
        t("lang.switch"),
      ),
      h(
        "span",
        {
          class: "me",
          title: state.me.group ? `${state.me.name} · ${state.me.group}` : state.me.name,
        },
        h("span", { class: "me-name" }, state.me.name),
        h("span", { class: "me-role muted" }, t(`role.${state.me.role}`)),
      ),
      h("button", { type: "button", class: "btn btn-quiet", onclick: logout }, t("logout")),
    ),
  );
}

function updateLiveIndicator(next) {
  state.liveState = next;
  const old = document.getElementById("live-indicator");
  if (!old) return;
  // Update in place so that assistive technology announces the change of this status region.
  const fresh = liveIndicator();
  old.className = fresh.className;
  old.title = fresh.title;
  old.dataset.state = next;
  old.replaceChildren(...fresh.childNodes);
}

// ---- pages ----------------------------------------------------------------------------------

function render({ force = false } = {}) {
  const route = parseHash();
  if (!route.name) {
    navigate(DEFAULT_ROUTE);
    return;
  }
  const spec = ROUTES[route.name];
  if (!spec.public && !state.me) {
    navigate("login", "", route.name === DEFAULT_ROUTE ? {} : { next: location.hash.slice(1) });
    return;
  }
  if (route.name === "login" && state.me) {
    navigate(DEFAULT_ROUTE);
    return;
  }
  const previous = state.route;
  state.route = route;
  renderHeader();
  if (
    !force &&
    state.page &&
    previous?.name === route.name &&
    previous.param === route.param &&
    state.page.update?.(route)
  ) {
    return;
  }
  state.page?.unmount?.();
  const main = document.getElementById("main");
  replace(main);
  main.className = `page page-${route.name}`;
  if (spec.role && !hasRole(state.me, spec.role)) {
    state.page = null;
    main.append(
      h(
        "div",
        { class: "list-status list-status-error" },
        h("p", { class: "error-text" }, errorText({ errid: 1005, errmsg: "权限不足" })),
      ),
    );
    return;
  }
  state.page = spec.page(context(route));
  state.page.mount(main);
  document.title = `${document.getElementById("page-title")?.textContent || ""} · TaskDash`;
}

async function signedIn(me) {
  state.me = me;
  setLang(me.lang);
  startLive();
  // Unread settings leave badges to their built-in kinds; the assign dialog asks again.
  await loadServerSettings().catch(() => null);
  const next = parseHash().query.next;
  go(next && next.startsWith("/") ? `#${next}` : `#/${DEFAULT_ROUTE}`);
}

async function logout() {
  try {
    await api("POST", "/logout");
  } catch (error) {
    toast(errorText(error), { kind: "error" });
  }
  signedOut();
}

function signedOut(query = {}) {
  state.me = null;
  state.live?.stop();
  state.live = null;
  state.page = null;
  go(hashFor("login", "", query));
}

/** Show `hash`: through hashchange when it differs from the current one, else at once. */
function go(hash) {
  if (location.hash === hash) render({ force: true });
  else location.hash = hash;
}

async function switchLanguage(event) {
  const next = getLang() === "en" ? "zh" : "en";
  const button = event.currentTarget;
  button.disabled = true;
  try {
    state.me = await api("PATCH", "/me", { lang: next });
    setLang(state.me.lang);
    render({ force: true });
    document.getElementById("lang-switch")?.focus();
  } catch (error) {
    button.disabled = false;
    toast(errorText(error), { kind: "error" });
  }
}

// ---- live updates ---------------------------------------------------------------------------

function startLive() {
  state.live?.stop();
  state.live = new LiveStream({
    task: (payload) => state.page?.onTask?.(payload),
    // A task that left the caller's lists: only its id, nothing else.
    remove: (payload) => state.page?.onRemove?.(payload),
    service: (payload) => state.page?.onService?.(payload),
    state: updateLiveIndicator,
    reopened: () => state.page?.onReconnect?.(),
    closed: reopenLive,
  });
  state.live.start();
}

/** The browser gave up on the stream (it was refused): check the session, then try again. */
async function reopenLive() {
  if (!state.me) return;
  try {
    state.me = await api("GET", "/me");
    startLive();
  } catch (error) {
    if (error.errid !== 1004) setTimeout(reopenLive, LIVE_RETRY_MS); // 1004: onSessionLost signs out
  }
}

// ---- keyboard and help ----------------------------------------------------------------------

function helpDialog() {
  let dialog = document.getElementById("help");
  if (dialog) return dialog;
  const keys = [
    ["j", "help.j"],
    ["k", "help.k"],
    ["Enter", "help.enter"],
    ["c", "help.c"],
    ["n", "help.n"],
    ["r", "help.r"],
    ["x", "help.x"],
    ["/", "help.slash"],
    ["?", "help.help"],
  ];
  dialog = h(
    "dialog",
    { id: "help", class: "modal help", "aria-labelledby": "help-title" },
    h("h2", { id: "help-title" }, t("help.title")),
    h(
      "dl",
      { class: "keys" },
      keys.map(([key, text]) =>
        h("div", { class: "key-row" }, h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(text))),
      ),
    ),
    h(
      "div",
      { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("close")),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  return dialog;
}

function toggleHelp() {
  const open = document.getElementById("help");
  if (open?.open) open.close();
  else helpDialog().showModal();
}

function typingIn(target) {
  return target.closest?.("input, textarea, select, [contenteditable='true']");
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || !state.me) return;
  if (document.querySelector("dialog[open]") && event.key !== "?") return;
  if (typingIn(event.target)) return;
  if (event.key === "?") {
    event.preventDefault();
    toggleHelp();
    return;
  }
  if (event.key === "/") {
    if (state.page?.focusFilter) {
      event.preventDefault();
      state.page.focusFilter();
    }
    return;
  }
  if (event.key === "Enter" && !event.target.matches?.("tr[data-id]")) return;
  if (
    ["j", "k", "c", "n", "r", "x", "Enter"].includes(event.key) &&
    state.page?.onKey?.(event.key)
  ) {
    event.preventDefault();
  }
});

// ---- start ----------------------------------------------------------------------------------

async function boot() {
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  onSessionLost(() => {
    if (state.me) signedOut({ expired: "1" });
  });
  try {
    [state.me] = await Promise.all([
      api("GET", "/me"),
      loadServerSettings().catch(() => null),
    ]);
    setLang(state.me.lang);
    startLive();
  } catch {
    state.me = null;
    setLang(getLang());
  }
  document.getElementById("skip-link").textContent = t("skip");
  window.addEventListener("hashchange", () => render());
  render({ force: true });
  setInterval(() => refreshAges(), AGE_REFRESH_MS);
}

boot();
