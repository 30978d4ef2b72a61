// Undo for the last assignment: assignments that put back what it changed.

import { api } from "./api.js";
import { toast } from "./dom.js";
import { t, errorText } from "./i18n.js";

const FIELDS = ["user", "checker", "group"];

let lastUndo = null;

/** Batches of {user?, checker?, group?, ids} restoring `before` (tasks that failed were not
 * changed); null when there is nothing to restore. */
function undoPlan(before, request, failed) {
  const fields = FIELDS.filter((f) => f in request || (f === "user" && request.strategy));
  const batches = new Map();
  for (const task of before) {
    if (failed.has(task.ID)) continue;
    const prior = {};
    for (const f of fields) prior[f] = task[f[0].toUpperCase() + f.slice(1)] || "";
    const key = JSON.stringify(prior);
    if (!batches.has(key)) batches.set(key, { ...prior, ids: [] });
    batches.get(key).ids.push(task.ID);
  }
  return batches.size ? [...batches.values()] : null;
}

/** Remember how to undo an assignment of `tasks` by `request`; the toast action for it. */
export function rememberUndo(tasks, request, failed, onDone) {
  const before = tasks.map(({ ID, User, Checker, Group }) => ({ ID, User, Checker, Group }));
  lastUndo = undoPlan(before, request, failed);
  return lastUndo ? { label: t("assign.undo"), run: () => undoLast(onDone) } : null;
}

async function undoLast(onDone) {
  const plan = lastUndo;
  lastUndo = null;
  if (!plan) return;
  try {
    for (const batch of plan) await api("POST", "/tasks/assign", batch);
    toast(t("assign.undone"), { kind: "ok" });
  } catch (exc) {
    toast(errorText(exc), { kind: "error" });
  }
  onDone?.();
}
