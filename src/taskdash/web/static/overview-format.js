// How the overview writes its numbers: durations, shares, bucket times and histogram bins.

import { exactTime, formatNumber } from "./dom.js";
import { t } from "./i18n.js";

const pad = (n) => String(n).padStart(2, "0");
const UNITS = [
  [86400, "dur.d"],
  [3600, "dur.h"],
  [60, "dur.min"],
];

/** "45 秒", "12 分钟", "2.5 小时", "3 天"; "—" for none. */
export function shortDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  for (const [size, key] of UNITS) {
    if (seconds >= size * 1.5 || (seconds >= size && seconds % size === 0)) {
      const value = seconds / size;
      return t(key, {
        n: formatNumber(value < 10 ? Math.round(value * 10) / 10 : Math.round(value)),
      });
    }
  }
  return t("dur.s", { n: formatNumber(Math.round(seconds)) });
}

/** "42%" of `part` in `whole` (whole numbers, "—" when there is no whole). */
export function percent(part, whole) {
  return whole ? `${Math.floor((part / whole) * 100)}%` : "—";
}

/**
 * A bucket's label under the time axis: "13:00" for hours within two days, the date at each
 * local midnight ("11-28") for hours over longer, the UTC date for days (as the API's buckets).
 */
export function bucketLabel(start, bucket, rangeS) {
  const d = new Date(start * 1000);
  if (bucket === "day") return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (rangeS <= 2 * 86400) return `${pad(d.getHours())}:00`;
  return d.getHours() === 0 ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())}` : "";
}

/** A bucket's start in full, for tables: "2026-11-28 13:00" or "2026-11-28" (UTC day). */
export function bucketTime(start, bucket) {
  return bucket === "day"
    ? new Date(start * 1000).toISOString().slice(0, 10)
    : exactTime(start).slice(0, 16);
}

/** "≤ 1 分钟" for a histogram bin's upper edge, "> 7 天" for the last (null) one. */
export function binLabel(upper, previousUpper) {
  return upper === null ? `> ${shortDuration(previousUpper)}` : `≤ ${shortDuration(upper)}`;
}

/** Where `seconds` falls on a histogram of `bins` ({upper_s}), in bins: 2.5 = half-way in the third. */
export function binPosition(seconds, bins) {
  let lower = 0;
  for (let i = 0; i < bins.length; i += 1) {
    const upper = bins[i].upper_s;
    if (upper === null) return i + 0.5;
    if (seconds <= upper) return i + Math.max(0, (seconds - lower) / (upper - lower));
    lower = upper;
  }
  return bins.length;
}

/** A time for axis labels over [since, until]: "13:05" within two days, else "11-28 13:05". */
export function axisTime(at, since, until) {
  const full = exactTime(at);
  return until - since <= 2 * 86400 ? full.slice(11, 16) : full.slice(5, 16);
}
