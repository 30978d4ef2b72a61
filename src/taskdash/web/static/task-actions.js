// What a person does to one task from a list: claim, claim next, release, open. Each gives a
// toast of the outcome (the server's errmsg when refused); the busy button blocks a second try.

import { api } from "./api.js";
import { h, toast, whileBusy } from "./dom.js";
import { t, errorText } from "./i18n.js";
import { openLink } from "./task-cells.js";
import { UNCLAIMED, CLAIMED } from "./roles.js";

/** The toast action that opens a task in its editor (null without an http(s) URL). */
function openAction(task) {
  const link = openLink(task);
  return link
    ? { label: t("open"), run: () => window.open(link.href, "_blank", "noopener,noreferrer") }
    : null;
}

async function claimed(button, request) {
  await whileBusy(button, async () => {
    try {
      const task = await request();
      toast(t("claimed.toast", { id: task.TaskID }), { kind: "ok", action: openAction(task) });
    } catch (error) {
      toast(errorText(error), { kind: "error" });
    }
  });
}

export function claimTask(task, button) {
  return claimed(button, () => api("POST", `/tasks/${encodeURIComponent(task.ID)}/claim`));
}

/** Claim the oldest claimable task, of `filter`'s type and project when given. */
export function claimNextTask(button, filter = {}) {
  return claimed(button, () => api("POST", "/tasks/claim-next", filter));
}

export async function releaseTask(task, button) {
  await whileBusy(button, async () => {
    try {
      await api("POST", `/tasks/${encodeURIComponent(task.ID)}/release`);
      toast(t("released.toast", { id: task.TaskID }), { kind: "ok" });
    } catch (error) {
      toast(errorText(error), { kind: "error" });
    }
  });
}

/** The claim button of an available task (disabled when it cannot be claimed). */
export function claimButton(task, onclick) {
  const claimable = task.ServiceOnline && task.Status === UNCLAIMED && !task.User;
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      disabled: !claimable,
      dataset: { key: "claim" },
      "aria-label": `${t("claim")} ${task.TaskID}`,
      onclick: (event) => onclick(event.currentTarget),
    },
    t("claim"),
  );
}

/** My task's actions: open it in its editor, release it while it is only claimed. */
export function mineActions(task, onRelease) {
  const release =
    task.Status === CLAIMED
      ? h(
          "button",
          {
            type: "button",
            class: "btn btn-small",
            dataset: { key: "release" },
            "aria-label": `${t("release")} ${task.TaskID}`,
            onclick: (event) => onRelease(event.currentTarget),
          },
          t("release"),
        )
      : null;
  return h(
    "div",
    { class: "row-actions" },
    openLink(task) || h("span", { class: "muted small" }, t("noLink")),
    release,
  );
}
