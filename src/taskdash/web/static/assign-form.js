// The assign dialog's fields: one person or spread over a group, the user, checker and group
// pickers (active users only), and the change they ask for.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const KEEP = "__keep__";
const CLEAR = "__clear__";

/** A picked value: undefined leaves the field as it is, "" clears it. */
function choice(value) {
  if (value === KEEP) return undefined;
  if (value === CLEAR) return "";
  return value;
}

function select(id, label, options) {
  const el = h(
    "select",
    { id, name: id },
    options.map(([value, text]) => h("option", { value }, text)),
  );
  return { el, field: h("div", { class: "field" }, h("label", { for: id }, label), el) };
}

function keepOrClear() {
  return [
    [KEEP, t("assign.noChange")],
    [CLEAR, `${t("assign.clear")} ${t("assign.unassigned")}`],
  ];
}

function radio(value, checked = false) {
  const id = `assign-mode-${value}`;
  return h("input", { type: "radio", name: "assign-mode", id, value, checked });
}

/** The pickers' choices from GET /users: who may take tasks, who may check, which groups. */
export function memberChoices(users) {
  const active = users.filter((u) => !u.disabled);
  return {
    users: active.map((u) => [u.name, u.group ? `${u.name} · ${u.group}` : u.name]),
    checkers: active
      .filter((u) => u.role !== "annotator")
      .map((u) => [u.name, `${u.name} · ${t(`role.${u.role}`)}`]),
    groups: [...new Set(active.map((u) => u.group).filter(Boolean))].sort(),
  };
}

/** The fields of the dialog; `change()` is the assign body they make (without the target). */
export function assignFields(choices) {
  const modeUser = radio("user", true);
  const modeGroup = radio("group");
  const groupChoices = choices.groups.map((g) => [g, g]);
  const user = select("assign-user", t("assign.user"), [...keepOrClear(), ...choices.users]);
  const checker = select("assign-checker", t("assign.checker"), [
    ...keepOrClear(),
    ...choices.checkers,
  ]);
  const group = select("assign-group", t("assign.group"), [...keepOrClear(), ...groupChoices]);
  const spreadGroup = select("assign-spread-group", t("assign.group"), groupChoices);
  const strategy = select("assign-strategy", t("assign.strategy"), [
    ["round_robin", t("assign.roundRobin")],
    ["least_loaded", t("assign.leastLoaded")],
  ]);
  const userFields = h("div", { class: "assign-fields" }, user.field, group.field);
  const groupFields = h(
    "div",
    { class: "assign-fields", hidden: true },
    spreadGroup.field,
    strategy.field,
  );
  const spreading = () => modeGroup.checked;
  return {
    elements: [
      h(
        "fieldset",
        { class: "mode" },
        h("legend", {}, t("assign.mode")),
        h("label", { class: "radio" }, modeUser, t("assign.modeUser")),
        h("label", { class: "radio" }, modeGroup, t("assign.modeGroup")),
      ),
      userFields,
      groupFields,
      h("div", { class: "assign-fields" }, checker.field),
    ],
    inputs: [modeUser, modeGroup, user.el, checker.el, group.el, spreadGroup.el, strategy.el],
    showMode() {
      groupFields.hidden = !spreading();
      userFields.hidden = spreading();
    },
    /** A spread was asked for without a group to spread over. */
    lacksGroup: () => spreading() && !spreadGroup.el.value,
    change() {
      const out = {};
      const set = (key, value) => value !== undefined && (out[key] = value);
      if (spreading()) {
        out.group = spreadGroup.el.value;
        out.strategy = strategy.el.value;
      } else {
        set("user", choice(user.el.value));
        set("group", choice(group.el.value));
      }
      set("checker", choice(checker.el.value));
      return out;
    },
  };
}
