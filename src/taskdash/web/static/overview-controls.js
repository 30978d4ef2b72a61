// The overview's controls: the period picker (24 h / 7 d / 30 d / custom range) and the project
// and type filters. Every change goes into the URL, so reload and back/forward restore it.

import { h, exactTime } from "./dom.js";
import { t } from "./i18n.js";
import { PERIODS } from "./overview-query.js";

/** "2026-11-28T13:05" for a datetime-local input, in local time. */
function localInputValue(seconds) {
  return exactTime(seconds).slice(0, 16).replace(" ", "T");
}

function inputSeconds(value) {
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.round(ms / 1000) : null;
}

function periodPicker(state, setQuery) {
  const choices = [...Object.keys(PERIODS), "custom"];
  return h(
    "div",
    { class: "segmented period", role: "group", "aria-label": t("overview.period") },
    choices.map((period) =>
      h(
        "button",
        {
          type: "button",
          id: `overview-period-${period}`,
          class: "btn btn-small",
          "aria-pressed": String(state.period === period),
          dataset: { period },
          onclick: () => setQuery({ period }),
        },
        t(`overview.period.${period}`),
      ),
    ),
  );
}

function customRange(state, setQuery) {
  const since = h("input", {
    id: "overview-since",
    type: "datetime-local",
    required: true,
    value: localInputValue(state.since),
  });
  const until = h("input", {
    id: "overview-until",
    type: "datetime-local",
    required: true,
    value: localInputValue(state.until),
  });
  const error = h("p", { class: "error-text", role: "alert" });
  return h(
    "form",
    {
      class: "custom-range",
      onsubmit: (event) => {
        event.preventDefault();
        const from = inputSeconds(since.value);
        const to = inputSeconds(until.value);
        if (from === null || to === null || from >= to) {
          error.textContent = t("overview.range.bad");
          return;
        }
        setQuery({ period: "custom", since: from, until: to });
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "overview-since" }, t("overview.range.since")),
      since,
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "overview-until" }, t("overview.range.until")),
      until,
    ),
    h("button", { type: "submit", class: "btn btn-small" }, t("overview.range.apply")),
    error,
  );
}

function filterInput(key, state, setQuery, suggestions) {
  const id = `overview-${key}`;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, t(`filter.${key}`)),
    h("input", {
      id,
      type: "search",
      list: `${id}-options`,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: t("filter.any"),
      value: state[key],
      onchange: (event) => setQuery({ [key]: event.target.value.trim() }),
    }),
    h(
      "datalist",
      { id: `${id}-options` },
      [...suggestions[key]].sort().map((value) => h("option", { value })),
    ),
  );
}

/** The controls for `state`; `suggestions`: {project: Set, type: Set} seen so far. */
export function overviewControls({ state, setQuery, suggestions }) {
  const filtered = state.project || state.type;
  return h(
    "div",
    { class: "overview-controls", role: "search", "aria-label": t("filter.label") },
    periodPicker(state, setQuery),
    state.period === "custom" ? customRange(state, setQuery) : null,
    h(
      "div",
      { class: "filters" },
      filterInput("project", state, setQuery, suggestions),
      filterInput("type", state, setQuery, suggestions),
      filtered
        ? h(
            "button",
            {
              type: "button",
              class: "btn btn-quiet",
              onclick: () => setQuery({ project: "", type: "" }),
            },
            t("filter.clear"),
          )
        : null,
    ),
  );
}
