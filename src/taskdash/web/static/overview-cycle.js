// Panel 4, cycle time: per task type, how long claim → finish took, as a histogram with the
// median and p90 marked.

import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";
import { chartFigure, dataTable } from "./chart-figure.js";
import { histogram } from "./chart-histogram.js";
import { binLabel, binPosition, shortDuration } from "./overview-format.js";

function typeFigure(type) {
  const bins = type.histogram.map((bin, i) => ({
    label: binLabel(bin.upper_s, i ? type.histogram[i - 1].upper_s : 0),
    count: bin.count,
  }));
  const markers = [
    ["median", type.median_s],
    ["p90", type.p90_s],
  ]
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => ({
      key,
      label: `${t(`overview.c.${key}`)} ${shortDuration(value)}`,
      at: binPosition(value, type.histogram),
    }));
  const table = dataTable({
    caption: `${type.type} · ${t("overview.cycle")}`,
    columns: [{ label: t("overview.c.bin") }, { label: t("overview.c.count"), num: true }],
    rows: [
      ...bins.map((bin) => [bin.label, formatNumber(bin.count)]),
      [t("overview.c.median"), shortDuration(type.median_s)],
      [t("overview.c.p90"), shortDuration(type.p90_s)],
    ],
  });
  return h(
    "div",
    { class: "cycle-type", dataset: { type: type.type } },
    h(
      "p",
      { class: "cycle-summary" },
      h("strong", {}, type.type || "—"),
      " · ",
      h(
        "span",
        { dataset: { stat: "count" } },
        t("overview.c.tasks", { n: formatNumber(type.count) }),
      ),
      " · ",
      h(
        "span",
        { dataset: { stat: "median" } },
        `${t("overview.c.median")} ${shortDuration(type.median_s)}`,
      ),
      " · ",
      h(
        "span",
        { dataset: { stat: "p90" } },
        `${t("overview.c.p90")} ${shortDuration(type.p90_s)}`,
      ),
    ),
    chartFigure({
      name: "cycle",
      caption: t("overview.c.caption", { type: type.type }),
      draw: (width) => histogram({ width, bins, markers, format: formatNumber }),
      table,
    }),
  );
}

/** The cycle-time panel's body for GET /stats/cycle-time. */
export function renderCycle(data) {
  if (!data.types.length) return h("p", { class: "empty" }, t("overview.c.empty"));
  return h("div", { class: "cycle-types" }, data.types.map(typeFigure));
}
