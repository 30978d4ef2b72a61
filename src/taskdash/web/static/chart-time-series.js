// A time series: one line per series over equal buckets (optionally filled down to zero), a
// y axis with round ticks, a few time labels, and a hover title per bucket with every value.

import { s, svgRoot, px, scale, niceMax, yAxis, textWidth } from "./chart-svg.js";

const MARGIN = { top: 8, right: 10, bottom: 20, left: 40 };

/** The indices of the labels to draw: those with text, at least a label's width apart. */
function labelIndices(texts, x) {
  const chosen = [];
  let free = -Infinity;
  texts.forEach((text, i) => {
    if (!text) return;
    const half = textWidth(text) / 2;
    if (x(i) - half < free) return;
    chosen.push(i);
    free = x(i) + half + 12;
  });
  return chosen;
}

/**
 * starts: bucket start times; series: [{key, label, values, area}];
 * timeLabel(start) -> text under the axis ("" for none); timeTitle(start) -> the bucket's
 * time on hover; format(n) -> a y tick or hover number.
 */
export function timeSeries({
  width,
  height = 170,
  starts,
  series,
  timeLabel,
  timeTitle = timeLabel,
  format,
}) {
  const n = starts.length;
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((line) => line.values)));
  const y = scale(0, max, bottom, MARGIN.top);
  const step = n ? (right - left) / n : 0;
  const x = (i) => left + (i + 0.5) * step;
  const lines = series.map((line) => {
    const points = line.values.map((v, i) => `${px(x(i))},${px(y(v))}`);
    const shapes = [];
    if (line.area && n) {
      const base = `${px(x(n - 1))},${px(bottom)} ${px(x(0))},${px(bottom)}`;
      shapes.push(s("polygon", { class: `area area-${line.key}`, points: `${points} ${base}` }));
    }
    shapes.push(
      n === 1
        ? s("circle", {
            class: `dot line-${line.key}`,
            cx: px(x(0)),
            cy: px(y(line.values[0])),
            r: 3,
          })
        : s("polyline", { class: `line line-${line.key}`, points: points.join(" ") }),
    );
    return s("g", { "data-series": line.key }, shapes);
  });
  const texts = starts.map(timeLabel);
  const labels = labelIndices(texts, x).map((i) =>
    s("text", { class: "x-label", x: px(x(i)), y: height - 6, "text-anchor": "middle" }, texts[i]),
  );
  const hovers = starts.map((start, i) =>
    s(
      "rect",
      {
        class: "hover",
        x: px(left + i * step),
        y: MARGIN.top,
        width: px(step),
        height: bottom - MARGIN.top,
      },
      s(
        "title",
        {},
        [
          timeTitle(start),
          ...series.map((line) => `${line.label}: ${format(line.values[i])}`),
        ].join("\n"),
      ),
    ),
  );
  return svgRoot(
    width,
    height,
    "time-series",
    yAxis({ max, y, left, right, bottom, format }),
    lines,
    labels,
    hovers,
  );
}
