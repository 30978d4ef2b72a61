// A histogram: one bar per bin with its count on top, bin labels underneath, and markers (such
// as the median and p90) drawn as labelled vertical lines at a fractional bin position.

import { s, svgRoot, px, scale, niceMax, yAxis, textWidth } from "./chart-svg.js";

const MARGIN = { right: 10, bottom: 20, left: 40 };
const MARKER_LINE_PX = 11;

/** bins: [{label, count}]; markers: [{key, label, at}] with `at` in bins (0 … bins.length). */
export function histogram({ width, height = 160, bins, markers = [], format }) {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  // Marker labels sit in rows above the bars, clear of the counts on top of them.
  const top = (markers.length + 1) * MARKER_LINE_PX + 4;
  const bottom = height - MARGIN.bottom;
  const max = niceMax(Math.max(0, ...bins.map((b) => b.count)));
  const y = scale(0, max, bottom, top);
  const step = bins.length ? (right - left) / bins.length : 0;
  const gap = Math.min(4, step * 0.15);
  const labelEvery = Math.max(
    1,
    Math.ceil((Math.max(0, ...bins.map((b) => textWidth(b.label))) + 6) / (step || 1)),
  );
  const bars = bins.map((bin, i) => {
    const x0 = left + i * step + gap / 2;
    const barTop = y(bin.count);
    return s(
      "g",
      { class: "bin", "data-bin": i },
      s("title", {}, `${bin.label}: ${format(bin.count)}`),
      s("rect", {
        class: "bar",
        x: px(x0),
        y: px(barTop),
        width: px(step - gap),
        height: px(bottom - barTop),
      }),
      bin.count && textWidth(format(bin.count)) <= step
        ? s(
            "text",
            {
              class: "bar-value",
              x: px(x0 + (step - gap) / 2),
              y: px(barTop - 3),
              "text-anchor": "middle",
            },
            format(bin.count),
          )
        : null,
      i % labelEvery === 0
        ? s(
            "text",
            {
              class: "x-label",
              x: px(x0 + (step - gap) / 2),
              y: height - 6,
              "text-anchor": "middle",
            },
            bin.label,
          )
        : null,
    );
  });
  const marks = markers.map((marker, i) => {
    const x = px(left + Math.min(Math.max(marker.at, 0), bins.length) * step);
    const anchor = x > (left + right) / 2 ? "end" : "start";
    return s(
      "g",
      { class: `marker marker-${marker.key}`, "data-marker": marker.key },
      s("line", { x1: x, x2: x, y1: (i + 1) * MARKER_LINE_PX + 2, y2: bottom }),
      s(
        "text",
        {
          x: anchor === "end" ? x - 3 : x + 3,
          y: (i + 1) * MARKER_LINE_PX - 2,
          "text-anchor": anchor,
        },
        marker.label,
      ),
    );
  });
  return svgRoot(
    width,
    height,
    "histogram",
    yAxis({ max, y, left, right, bottom, format }),
    bars,
    marks,
  );
}
