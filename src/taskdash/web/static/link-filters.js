// Filters a list gets from a link (the overview's stuck-work counts), not offered as inputs:
// passed on to GET /api/v1/tasks as they are, and shown as chips that clear them.

import { h, exactTime } from "./dom.js";
import { t } from "./i18n.js";

export const LINK_FILTERS = ["claimed_before", "online"];

/** The API parameters of the link filters in `query`. */
export function linkFilterParams(query) {
  const params = {};
  for (const key of LINK_FILTERS) if (query[key]) params[key] = query[key];
  return params;
}

function chipText(key, value) {
  if (key === "claimed_before")
    return t("linkFilter.claimedBefore", { at: exactTime(Number(value)) });
  return t(value === "false" ? "linkFilter.offline" : "linkFilter.online");
}

/** One chip per link filter in `query`; pressing one applies the query without it. */
export function linkFilterChips(query, apply) {
  const keys = LINK_FILTERS.filter((key) => query[key]);
  if (!keys.length) return null;
  return h(
    "div",
    { class: "link-filters" },
    keys.map((key) =>
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small chip",
          title: t("linkFilter.remove"),
          dataset: { filter: key },
          onclick: () => apply({ ...query, [key]: "" }),
        },
        chipText(key, query[key]),
        h("span", { "aria-hidden": "true" }, " ×"),
      ),
    ),
  );
}
