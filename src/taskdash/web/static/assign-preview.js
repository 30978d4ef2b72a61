// The assign dialog's preview: the server's own plan for the body the dialog would send
// (POST /api/v1/tasks/assign/plan, a dry run), as who gets how many and what else is set.

import { api } from "./api.js";
import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";

/** What `request` (an assign body) would do, computed by the server without writing. */
export function fetchPlan(request) {
  return api("POST", "/tasks/assign/plan", request);
}

function shareLine(share, request) {
  if (!request.strategy) {
    const who = share.user || t("assign.unassigned");
    return h("li", {}, t("assign.previewLine", { n: formatNumber(share.tasks), who }));
  }
  const held =
    request.strategy === "least_loaded"
      ? ` ${t("assign.previewLoad", { n: share.held || 0 })}`
      : "";
  const count = h("span", { class: "num" }, formatNumber(share.tasks));
  return h("li", {}, count, ` → ${share.user}${held}`);
}

function setText(label, value) {
  return `${t(label)} = ${value || t("assign.unassigned")}`;
}

/** The preview's nodes for `plan`, the server's answer to `request`. */
export function planView(plan, request) {
  const lines = plan.users.map((share) => shareLine(share, request));
  const changes = [];
  if (plan.group !== null) changes.push(setText("assign.group", plan.group));
  if (plan.checker !== null) changes.push(setText("assign.checker", plan.checker));
  const what = changes.join(" · ");
  return [
    lines.length ? h("ul", { class: "plan" }, lines) : null,
    changes.length
      ? h(
          "p",
          { class: "plan-changes" },
          lines.length
            ? `${t("assign.alsoSets")}: ${what}`
            : `${t("assign.count", { n: formatNumber(plan.tasks) })} → ${what}`,
        )
      : null,
  ];
}

/** The preview when there is nothing to ask the server: no change picked, or no group. */
export function emptyView(key) {
  return h("p", { class: "muted" }, t(key));
}
