// A timeline: one row per item with its online/offline spans over [since, until]; offline spans
// are hatched as well as coloured, so the state never rests on colour alone.

import { s, svgRoot, px, scale, fitText, textWidth } from "./chart-svg.js";

const ROW_PX = 20;
const ROW_GAP_PX = 8;
const AXIS_PX = 20;

/** rows: [{key, label, spans: [{from, to, online}]}]; timeLabel(t) -> text under the axis. */
export function timeline({ width, rows, since, until, timeLabel, spanTitle }) {
  const labelPx = Math.min(120, Math.round(width * 0.28));
  const left = labelPx + 8;
  const right = width - 8;
  const x = scale(since, until, left, right);
  const height = rows.length * (ROW_PX + ROW_GAP_PX) + AXIS_PX;
  const body = rows.map((row, r) => {
    const top = r * (ROW_PX + ROW_GAP_PX);
    return s(
      "g",
      { class: "timeline-row", "data-row": row.key },
      s(
        "text",
        { class: "row-label", x: 0, y: top + ROW_PX / 2, "dominant-baseline": "central" },
        fitText(row.label, labelPx),
      ),
      s("rect", { class: "track", x: left, y: top, width: px(right - left), height: ROW_PX }),
      row.spans.map((span) => {
        const x0 = x(Math.max(span.from, since));
        const x1 = x(Math.min(span.to, until));
        return s(
          "rect",
          {
            class: `span ${span.online ? "span-online" : "span-offline"}`,
            x: px(x0),
            y: top,
            width: px(Math.max(1, x1 - x0)),
            height: ROW_PX,
            // An attribute, not CSS: a fragment url() in a stylesheet would resolve against it.
            fill: span.online ? null : "url(#hatch-offline)",
          },
          s("title", {}, spanTitle(span)),
        );
      }),
    );
  });
  const axisY = rows.length * (ROW_PX + ROW_GAP_PX);
  const count = Math.max(
    2,
    Math.min(5, Math.floor((right - left) / (textWidth(timeLabel(since)) + 24))),
  );
  const labels = Array.from(
    { length: count },
    (_, i) => since + ((until - since) * i) / (count - 1),
  ).map((at, i) =>
    s(
      "text",
      {
        class: "x-label",
        x: px(x(at)),
        y: axisY + 12,
        "text-anchor": i === 0 ? "start" : i === count - 1 ? "end" : "middle",
      },
      timeLabel(at),
    ),
  );
  return svgRoot(
    width,
    height,
    "timeline",
    s(
      "defs",
      {},
      s(
        "pattern",
        {
          id: "hatch-offline",
          width: 6,
          height: 6,
          patternUnits: "userSpaceOnUse",
          patternTransform: "rotate(45)",
        },
        s("rect", { class: "hatch-bg", width: 6, height: 6 }),
        s("line", { class: "hatch-line", x1: 0, y1: 0, x2: 0, y2: 6 }),
      ),
    ),
    body,
    labels,
  );
}
