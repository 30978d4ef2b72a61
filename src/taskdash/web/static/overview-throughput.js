// Panel 2, throughput: tasks created, claimed and finished per hour or day, and the unclaimed
// queue's length at the end of each bucket, as two charts over one time axis and one table.

import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";
import { chartFigure, dataTable, legendList } from "./chart-figure.js";
import { timeSeries } from "./chart-time-series.js";
import { bucketLabel, bucketTime } from "./overview-format.js";

const FLOWS = ["created", "claimed", "finished"];

/** Hour / day switch; the choice goes into the URL. */
export function bucketSwitch(state, env) {
  return h(
    "div",
    { class: "segmented", role: "group", "aria-label": t("overview.t.bucket") },
    ["hour", "day"].map((bucket) =>
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          "aria-pressed": String(state.bucket === bucket),
          onclick: () => env.setQuery({ bucket, bucketChosen: true }),
        },
        t(`overview.t.${bucket}`),
      ),
    ),
  );
}

/** The throughput panel's body for GET /stats/throughput. */
export function renderThroughput(data, env) {
  const buckets = data.buckets;
  if (!buckets.length) return h("p", { class: "empty" }, t("overview.t.empty"));
  const starts = buckets.map((b) => b.start);
  const label = (start) => bucketLabel(start, data.bucket, data.until - data.since);
  const title = (start) => bucketTime(start, data.bucket);
  const words = (key) => t(`overview.t.${key}`);
  const totals = Object.fromEntries(
    FLOWS.map((key) => [key, buckets.reduce((sum, b) => sum + b[key], 0)]),
  );
  const queueNow = buckets[buckets.length - 1].unclaimed;
  const draw = (width) => {
    const flows = timeSeries({
      width,
      starts,
      series: FLOWS.map((key) => ({ key, label: words(key), values: buckets.map((b) => b[key]) })),
      timeLabel: label,
      timeTitle: title,
      format: formatNumber,
    });
    const queue = timeSeries({
      width,
      height: 110,
      starts,
      series: [
        {
          key: "unclaimed",
          label: words("unclaimed"),
          values: buckets.map((b) => b.unclaimed),
          area: true,
        },
      ],
      timeLabel: label,
      timeTitle: title,
      format: formatNumber,
    });
    return h("div", { class: "chart-stack" }, flows, queue);
  };
  const legend = legendList([
    ...FLOWS.map((key) => ({ key, label: words(key), value: formatNumber(totals[key]) })),
    { key: "unclaimed", label: words("queueNow"), value: formatNumber(queueNow) },
  ]);
  const table = dataTable({
    caption: t("overview.throughput"),
    columns: [
      { label: t(data.bucket === "day" ? "overview.t.dayUtc" : "overview.t.hourStart") },
      ...[...FLOWS, "unclaimed"].map((key) => ({ label: words(key), num: true })),
    ],
    rows: buckets.map((b) => [
      bucketTime(b.start, data.bucket),
      ...[...FLOWS, "unclaimed"].map((key) => formatNumber(b[key])),
    ]),
  });
  return chartFigure({
    name: "throughput",
    caption: t(data.bucket === "day" ? "overview.t.perDay" : "overview.t.perHour"),
    draw,
    table,
    legend,
  });
}
