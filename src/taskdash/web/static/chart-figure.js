// A chart and the same numbers as a table: the table is always in the page for screen readers
// (visually hidden), and a toggle shows it instead of the chart. The chart is redrawn for the
// width it gets, so it never overflows a phone screen.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** A table: columns [{label, num}], rows [[cell, …]] (cells are text or nodes). */
export function dataTable({ caption, columns, rows, className = "" }) {
  return h(
    "table",
    { class: `tasks chart-table ${className}` },
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          {},
          row.map((cell, i) =>
            h(
              i === 0 ? "th" : "td",
              {
                scope: i === 0 ? "row" : null,
                class: columns[i].num ? "num" : null,
                dataset: { label: columns[i].label },
              },
              cell,
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A <figure>: `draw(widthPx)` returns the chart (an <svg>), `legend` sits under it, and
 * `table` holds the same numbers. `name` marks the figure for tests and styles.
 */
export function chartFigure({ name, caption, draw, table, legend = null }) {
  const box = responsiveBox(draw);
  const tableBox = h("div", { class: "chart-table-box sr-only" }, table);
  const toggle = h(
    "button",
    { type: "button", class: "btn btn-quiet btn-small chart-toggle", "aria-pressed": "false" },
    t("chart.showTable"),
  );
  const figure = h(
    "figure",
    { class: "chart-figure", dataset: { chart: name } },
    h("figcaption", { class: "chart-caption" }, h("span", {}, caption), toggle),
    box,
    legend,
    tableBox,
  );
  toggle.addEventListener("click", () => {
    const showTable = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", String(showTable));
    toggle.textContent = showTable ? t("chart.showChart") : t("chart.showTable");
    tableBox.classList.toggle("sr-only", !showTable);
    box.hidden = showTable;
    if (legend) legend.hidden = showTable;
  });
  return figure;
}

/** A box holding `draw(widthPx)`, drawn again whenever its width changes. */
export function responsiveBox(draw, className = "chart-box") {
  const box = h("div", { class: className });
  let drawnWidth = -1;
  // Drawn in a frame of its own: resizing inside the observer's callback would loop.
  const observer = new ResizeObserver(() =>
    requestAnimationFrame(() => {
      if (!box.isConnected) {
        observer.disconnect();
        return;
      }
      const width = Math.floor(box.clientWidth);
      if (width <= 0 || width === drawnWidth) return;
      drawnWidth = width;
      box.replaceChildren(draw(width));
    }),
  );
  observer.observe(box);
  return box;
}

/** A legend: swatches with their words (colour is never the only signal: the words are there). */
export function legendList(items) {
  return h(
    "ul",
    { class: "chart-legend" },
    items.map(({ key, label, value }) =>
      h(
        "li",
        { dataset: { series: key } },
        h("span", { class: `swatch swatch-${key}`, "aria-hidden": "true" }),
        label,
        value === undefined ? null : h("span", { class: "num legend-value" }, value),
      ),
    ),
  );
}
