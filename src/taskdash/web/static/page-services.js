// Task services: online/offline, last heartbeat age, clock skew, task counts, metadata errors.

import { api } from "./api.js";
import { h, ageElement, formatDuration, formatNumber, replace } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { debounce } from "./live.js";

function skewText(service) {
  if (!service.last_heartbeat || !service.last_heartbeat_sender_time) return "—";
  const skew = service.last_heartbeat_sender_time - service.last_heartbeat;
  const sign = skew >= 0 ? "+" : "−";
  return `${sign}${formatDuration(skew)}`;
}

class ServicesPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.refreshSoon = debounce(() => this.load(), 400, 1500);
  }

  mount(main) {
    this.body = h(
      "div",
      {},
      h(
        "p",
        { class: "list-status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        t("loading"),
      ),
    );
    main.append(
      h(
        "div",
        { class: "page-head" },
        h("div", { class: "title-block" }, h("h1", { id: "page-title" }, t("services.title"))),
      ),
      this.body,
    );
    this.load();
  }

  async load() {
    try {
      this.render(await api("GET", "/services"));
    } catch (error) {
      replace(
        this.body,
        h(
          "div",
          { class: "list-status list-status-error" },
          h("p", { class: "error-text" }, t("error.load", { msg: errorText(error) })),
          h("button", { type: "button", class: "btn", onclick: () => this.load() }, t("retry")),
        ),
      );
    }
  }

  render({ services, unknown_heartbeats: unknown }) {
    const cols = ["name", "state", "heartbeat", "skew", "tasks", "metadata"];
    const table = services.length
      ? h(
          "section",
          { class: "list" },
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "tasks services", "aria-label": t("services.title") },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  cols.map((c) => h("th", { scope: "col", class: `col-${c}` }, t(`services.${c}`))),
                ),
              ),
              h(
                "tbody",
                {},
                services.map((s) => this.row(s)),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("services.empty"));
    const sources = Object.entries(unknown || {});
    replace(
      this.body,
      table,
      sources.length
        ? h(
            "section",
            { class: "card unknown" },
            h("h2", {}, t("services.unknown")),
            h("p", { class: "hint" }, t("services.unknownHint")),
            h(
              "ul",
              { class: "plain" },
              sources.map(([source, count]) =>
                h(
                  "li",
                  {},
                  h("span", { class: "mono" }, source),
                  " · ",
                  h("span", { class: "num" }, formatNumber(count)),
                ),
              ),
            ),
          )
        : null,
    );
  }

  row(s) {
    const counts = s.tasks || {};
    return h(
      "tr",
      {},
      h(
        "td",
        { class: "col-name", dataset: { label: t("services.name") } },
        h("div", { class: "service-name" }, s.name || "—"),
        h("div", { class: "mono muted small" }, s.url),
      ),
      h(
        "td",
        { dataset: { label: t("services.state") } },
        h(
          "span",
          { class: `badge ${s.online ? "badge-finished" : "badge-offline"}` },
          s.online ? t("services.online") : t("services.offline"),
        ),
        s.clock_skew ? h("span", { class: "badge badge-claimed" }, t("services.skewFlag")) : null,
      ),
      h(
        "td",
        { class: "num", dataset: { label: t("services.heartbeat") } },
        s.last_heartbeat ? ageElement(s.last_heartbeat) : t("services.never"),
      ),
      h("td", { class: "num", dataset: { label: t("services.skew") } }, skewText(s)),
      h(
        "td",
        { class: "num", dataset: { label: t("services.tasks") } },
        t("services.counts", {
          total: formatNumber(counts.total || 0),
          unclaimed: formatNumber(counts.unclaimed || 0),
          claimed: formatNumber(counts.claimed || 0),
        }),
      ),
      h(
        "td",
        { class: "col-metadata", dataset: { label: t("services.metadata") } },
        s.metadata_error
          ? h("span", { class: "error-text" }, s.metadata_error)
          : s.metadata_synced_at
            ? [
                h("span", { class: "ok-text" }, t("services.metaOk")),
                " · ",
                ageElement(s.metadata_synced_at),
              ]
            : h("span", { class: "muted" }, t("services.never")),
      ),
    );
  }

  onService() {
    this.refreshSoon();
  }

  onTask() {
    this.refreshSoon();
  }

  onRemove() {
    this.refreshSoon();
  }

  onReconnect() {
    this.load();
  }
}

export const ServicesPageFactory = (ctx) => new ServicesPage(ctx);
