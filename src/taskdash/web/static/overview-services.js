// Panel 5, services: each service's online/offline spans as a timeline, its heartbeat age and
// metadata-sync errors.

import { h, ageElement, exactTime, formatNumber } from "./dom.js";
import { t } from "./i18n.js";
import { chartFigure, dataTable, legendList } from "./chart-figure.js";
import { timeline } from "./chart-timeline.js";
import { axisTime, shortDuration } from "./overview-format.js";

const stateWord = (online) => t(online ? "services.online" : "services.offline");

function serviceRow(service) {
  return h(
    "tr",
    { dataset: { service: service.name } },
    h("th", { scope: "row", class: "col-s-name" }, service.name || "—"),
    h(
      "td",
      { dataset: { label: t("services.state"), stat: "state" } },
      h(
        "span",
        { class: `badge ${service.online ? "badge-finished" : "badge-offline"}` },
        stateWord(service.online),
      ),
    ),
    h(
      "td",
      { class: "num", dataset: { label: t("overview.s.heartbeatAge"), stat: "heartbeat" } },
      service.heartbeat_age_s === null
        ? t("services.never")
        : shortDuration(service.heartbeat_age_s),
    ),
    h(
      "td",
      { class: "num", dataset: { label: t("overview.s.errors"), stat: "errors" } },
      formatNumber(service.metadata_errors),
    ),
    h(
      "td",
      { class: "col-s-error", dataset: { label: t("overview.s.lastError"), stat: "last-error" } },
      service.last_metadata_error
        ? [
            h("span", { class: "error-text" }, service.last_metadata_error),
            " · ",
            ageElement(service.last_metadata_error_at),
          ]
        : "—",
    ),
  );
}

/** The services panel's body for GET /stats/services. */
export function renderServices(data) {
  if (!data.services.length) return h("p", { class: "empty" }, t("services.empty"));
  const { since, until } = data;
  const spanTitle = (span) =>
    `${stateWord(span.online)}: ${exactTime(span.from)} – ${exactTime(span.to)}`;
  const table = dataTable({
    caption: t("overview.s.spans"),
    columns: [
      { label: t("services.name") },
      { label: t("services.state") },
      { label: t("overview.s.from") },
      { label: t("overview.s.to") },
    ],
    rows: data.services.flatMap((service) =>
      service.spans.map((span) => [
        service.name,
        stateWord(span.online),
        exactTime(span.from),
        exactTime(span.to),
      ]),
    ),
  });
  const figure = chartFigure({
    name: "services",
    caption: t("overview.s.caption", { from: exactTime(since), to: exactTime(until) }),
    draw: (width) =>
      timeline({
        width,
        since,
        until,
        rows: data.services.map((service) => ({
          key: service.name,
          label: service.name,
          spans: service.spans,
        })),
        timeLabel: (at) => axisTime(at, since, until),
        spanTitle,
      }),
    table,
    legend: legendList([
      { key: "online", label: t("services.online") },
      { key: "offline", label: t("services.offline") },
    ]),
  });
  const columns = ["name", "state", "heartbeatAge", "errors", "lastError"];
  return h(
    "div",
    {},
    figure,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "tasks overview-services", "aria-label": t("overview.services") },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            columns.map((key) => h("th", { scope: "col" }, t(`overview.s.${key}`))),
          ),
        ),
        h("tbody", {}, data.services.map(serviceRow)),
      ),
    ),
  );
}
