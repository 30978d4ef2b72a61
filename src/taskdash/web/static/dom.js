// Building DOM from data without ever parsing data as HTML, and formatting times.

import { t, getLang } from "./i18n.js";

/** An element: h("a", {href, class, onclick, dataset: {...}}, child, "text", [children]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "text") el.textContent = String(value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children: nodes as they are, anything else as a text node. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** The URL when it is an absolute http(s) URL, else null (never a javascript: link). */
export function safeHttpUrl(raw) {
  if (typeof raw !== "string" || !raw.trim()) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const pad = (n) => String(n).padStart(2, "0");

/** "2024-05-01 13:04:05" in local time, for tooltips and detail pages. */
export function exactTime(seconds) {
  if (!seconds) return "";
  const d = new Date(seconds * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "3 分钟前" / "3 min ago"; a date for anything older than 30 days. */
export function relativeAge(seconds, now = Date.now() / 1000) {
  if (!seconds) return "—";
  const age = Math.max(0, Math.round(now - seconds));
  if (age < 10) return t("age.now");
  if (age < 60) return t("age.s", { n: age });
  if (age < 3600) return t("age.min", { n: Math.floor(age / 60) });
  if (age < 86400) return t("age.h", { n: Math.floor(age / 3600) });
  if (age < 30 * 86400) return t("age.d", { n: Math.floor(age / 86400) });
  return exactTime(seconds).slice(0, 10);
}

/** A <time> showing the relative age, exact time on hover; refreshed by refreshAges(). */
export function ageElement(seconds) {
  const el = h("time", { class: "age", title: exactTime(seconds) }, relativeAge(seconds));
  if (seconds) {
    el.dataset.ts = String(seconds);
    el.setAttribute("datetime", new Date(seconds * 1000).toISOString());
  }
  return el;
}

export function refreshAges(root = document) {
  const now = Date.now() / 1000;
  for (const el of root.querySelectorAll("time.age[data-ts]")) {
    el.textContent = relativeAge(Number(el.dataset.ts), now);
  }
}

/** A short non-blocking message; kind: "ok" | "error" | "info". */
export function toast(message, { kind = "info", action = null, timeoutMs = 5000 } = {}) {
  const region = document.getElementById("toasts");
  const close = h(
    "button",
    { type: "button", class: "toast-close", "aria-label": t("close") },
    "×",
  );
  const item = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-text" }, message),
    action
      ? h(
          "button",
          {
            type: "button",
            class: "btn btn-small",
            onclick: () => {
              item.remove();
              action.run();
            },
          },
          action.label,
        )
      : null,
    close,
  );
  close.addEventListener("click", () => item.remove());
  region.append(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  setTimeout(() => item.remove(), kind === "error" ? timeoutMs * 2 : timeoutMs);
  return item;
}

/** Run `work` with `button` disabled (and marked busy) so it cannot be submitted twice. */
export async function whileBusy(button, work) {
  if (!button) return work();
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function formatNumber(n) {
  return new Intl.NumberFormat(getLang() === "en" ? "en-US" : "zh-CN").format(n);
}

/** "1.5 s", "2 min" — for durations such as clock skew. */
export function formatDuration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return t("dur.s", { n: s });
  if (s < 7200) return t("dur.min", { n: Math.round(s / 60) });
  return t("dur.h", { n: Math.round(s / 3600) });
}

/** Replace `parent`'s children; like append, nulls are skipped and strings become text. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}
