// SVG building blocks of the overview's charts: elements in the SVG namespace, scales, ticks.
// Charts are drawn for the pixel width they get, so text stays readable at any width.

const NS = "http://www.w3.org/2000/svg";
export const FONT_PX = 11;

/** An SVG element: s("rect", {x, y, class}, child, "text"); attributes only, never styles. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An <svg> of `width` × `height` pixels, hidden from assistive technology (the table speaks). */
export function svgRoot(width, height, className, ...children) {
  return s(
    "svg",
    {
      class: `chart ${className}`,
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      "aria-hidden": "true",
      focusable: "false",
    },
    ...children,
  );
}

/** A number rounded for an SVG attribute (shorter markup, same picture). */
export const px = (value) => Math.round(value * 10) / 10;

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to r0. */
export function scale(d0, d1, r0, r1) {
  const span = d1 - d0;
  return (value) => (span ? r0 + ((value - d0) / span) * (r1 - r0) : r0);
}

/** The smallest of 1, 2, 5 × 10^k at or above `value` (at least 1): a round axis maximum. */
export function niceMax(value) {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Whole-number ticks from 0 up to and including `max` (a niceMax), four to six of them. */
export function ticks(max) {
  const power = 10 ** Math.floor(Math.log10(max));
  const lead = Math.round(max / power); // 1, 2 or 5
  const step = Math.max(1, power * (lead === 1 ? 0.2 : lead === 2 ? 0.5 : 1));
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

/** About how wide `text` is drawn at FONT_PX (CJK characters count double). */
export function textWidth(text) {
  let units = 0;
  for (const ch of String(text)) units += ch.charCodeAt(0) > 0x2e80 ? 2 : 1;
  return units * FONT_PX * 0.6;
}

/** `text` cut to fit `maxPx`, with an ellipsis when cut. */
export function fitText(text, maxPx) {
  const chars = [...String(text)];
  if (textWidth(text) <= maxPx) return String(text);
  while (chars.length && textWidth(`${chars.join("")}…`) > maxPx) chars.pop();
  return `${chars.join("")}…`;
}

/** Horizontal grid lines with their values on the left for a y axis from 0 to `max`, and
the base line at `bottom`. */
export function yAxis({ max, y, left, right, bottom, format }) {
  const all = ticks(max);
  // A short chart keeps every other tick, so that the numbers do not touch.
  const crowded = all.length > 1 && Math.abs(y(all[1]) - y(all[0])) < 2 * FONT_PX;
  const grid = all
    .filter((_, i) => !crowded || i % 2 === 0)
    .map((value) =>
      s(
        "g",
        { class: "tick" },
        s("line", { class: "grid", x1: left, x2: right, y1: px(y(value)), y2: px(y(value)) }),
        s(
          "text",
          { x: left - 4, y: px(y(value)), "text-anchor": "end", "dominant-baseline": "middle" },
          format(value),
        ),
      ),
    );
  return [grid, s("line", { class: "axis", x1: left, x2: right, y1: bottom, y2: bottom })];
}
