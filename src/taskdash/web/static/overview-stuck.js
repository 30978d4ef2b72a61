// Panel 6, stuck work: tasks held longer than N hours, tasks of offline services and dead
// letters of the last 24 h, each a count that links to its list.

import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";

/** A number input for the stuck threshold in hours (into the URL on change). */
export function heldInput(state, env) {
  const input = h("input", {
    id: "overview-held",
    type: "number",
    min: 1,
    max: 8760,
    step: 1,
    value: String(state.held),
    onchange: (event) => {
      const hours = Math.round(Number(event.target.value));
      if (hours >= 1 && hours <= 8760) env.setQuery({ held: hours });
    },
  });
  return h(
    "div",
    { class: "held" },
    h("label", { for: "overview-held" }, t("overview.k.heldLabel")),
    input,
  );
}

/** The stuck-work panel's body for GET /stats/stuck: each count links to its list. */
export function renderStuck(data, env) {
  // "Held longer than N h" as of now: the link is made again when it is followed.
  const heldHref = () =>
    env.taskListHref({ claimed_before: Math.floor(Date.now() / 1000) - data.claimed_hours * 3600 });
  const counts = [
    ["claimed_longer", t("overview.k.claimedLonger", { n: data.claimed_hours }), heldHref()],
    ["offline_service_tasks", t("overview.k.offline"), env.taskListHref({ online: "false" })],
    [
      "dead_letters_24h",
      t("overview.k.deadLetters"),
      env.canSeeDeadLetters ? "#/dead-letters" : null,
    ],
  ];
  return h(
    "ul",
    { class: "stuck-counts" },
    counts.map(([key, label, href]) => {
      const inner = [
        h("span", { class: "stuck-number num" }, formatNumber(data[key])),
        h("span", { class: "stuck-label" }, label),
      ];
      return h(
        "li",
        { dataset: { stat: key } },
        href
          ? h(
              "a",
              {
                href,
                class: `stuck ${data[key] ? "stuck-some" : ""}`,
                onclick:
                  key === "claimed_longer"
                    ? (event) => event.currentTarget.setAttribute("href", heldHref())
                    : null,
              },
              inner,
            )
          : h("span", { class: "stuck" }, inner),
      );
    }),
  );
}
