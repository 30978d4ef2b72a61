// A horizontal stacked bar: one segment per part, its width by value, its number inside when it
// fits; a segment with an href is a link (the same links are in the legend for the keyboard).

import { s, svgRoot, px, textWidth } from "./chart-svg.js";

const BAR_PX = 22;

/** segments: [{key, kind, label, value, href}] (kind picks the colour; zero values are left out). */
export function stackedBar({ width, segments }) {
  const total = segments.reduce((sum, seg) => sum + seg.value, 0);
  const parts = [];
  let x = 0;
  for (const seg of segments) {
    if (!(seg.value > 0)) continue;
    const w = total ? (seg.value / total) * width : 0;
    const number = String(seg.value);
    const shape = [
      s("title", {}, `${seg.label}: ${seg.value}`),
      s("rect", { class: `seg seg-${seg.kind}`, x: px(x), y: 0, width: px(w), height: BAR_PX }),
      textWidth(number) + 8 <= w
        ? s(
            "text",
            {
              class: `seg-text seg-text-${seg.kind}`,
              x: px(x + w / 2),
              y: BAR_PX / 2,
              "text-anchor": "middle",
              "dominant-baseline": "central",
            },
            number,
          )
        : null,
    ];
    parts.push(
      seg.href
        ? s("a", { href: seg.href, tabindex: "-1", "data-key": seg.key }, shape)
        : s("g", { "data-key": seg.key }, shape),
    );
    x += w;
  }
  if (!parts.length) {
    parts.push(s("rect", { class: "seg seg-empty", x: 0, y: 0, width, height: BAR_PX }));
  }
  return svgRoot(width, BAR_PX, "stacked-bar", parts);
}
