// A filter bar whose values live in the URL: each change navigates, so views can be bookmarked.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { t, statusLabel, KNOWN_STATUSES } from "./i18n.js";

const seenValues = { type: new Set(), project: new Set(), user: new Set(), group: new Set() };
const MAX_OPTIONS = 1000;
let suggestions = null; // the server's distinct values, asked once per page load

/** Remember values seen in task rows, offered as suggestions in the filter inputs. */
export function noteTaskValues(tasks) {
  for (const task of tasks) {
    if (task.TaskType) seenValues.type.add(task.TaskType);
    if (task.ProjectID) seenValues.project.add(task.ProjectID);
    if (task.User) seenValues.user.add(task.User);
    if (task.Checker) seenValues.user.add(task.Checker);
    if (task.Group) seenValues.group.add(task.Group);
  }
}

const SUGGEST = { type: "type", project: "project", user: "user", checker: "user", group: "group" };

function options(kind) {
  const values = [...(seenValues[kind] || [])].sort().slice(0, MAX_OPTIONS);
  return values.map((v) => h("option", { value: v }));
}

/** Ask the server for the types, projects and groups the user may see (once), and offer them
 * in every filter input's suggestions. */
export function loadSuggestions() {
  suggestions ??= Promise.all(
    ["type", "project", "group"].map(async (field) => {
      const { values } = await api("GET", `/tasks/distinct?field=${field}`);
      for (const value of values) seenValues[field].add(value);
    }),
  ).then(
    () => {
      for (const list of document.querySelectorAll("datalist[data-suggest]"))
        replace(list, options(list.dataset.suggest));
    },
    () => {
      suggestions = null; // try again on the next page
    },
  );
  return suggestions;
}

/**
 * fields: ["type", "project", "status", ...]; query: current values; apply(nextQuery).
 * Returns {element, focus(), sync(query)}.
 */
export function filterBar({ fields, query, apply, idPrefix }) {
  const inputs = {};
  const form = h("form", {
    class: "filters",
    role: "search",
    "aria-label": t("filter.label"),
    onsubmit: (event) => {
      event.preventDefault();
      submit();
    },
  });
  const submit = () => {
    const next = { ...query };
    for (const [key, input] of Object.entries(inputs)) next[key] = input.value.trim();
    apply(next);
  };
  for (const key of fields) {
    const id = `${idPrefix}-${key}`;
    let input;
    if (key === "status") {
      const statuses = new Set(KNOWN_STATUSES);
      if (query.status) statuses.add(query.status);
      input = h(
        "select",
        { id, name: key, onchange: submit },
        h("option", { value: "" }, t("filter.any")),
        [...statuses].map((s) => h("option", { value: s }, statusLabel(s))),
      );
    } else {
      const listId = `${id}-options`;
      input = h("input", {
        id,
        name: key,
        type: "search",
        list: listId,
        autocomplete: "off",
        spellcheck: "false",
        placeholder: t("filter.any"),
        onchange: submit,
      });
      form.append(
        h("datalist", { id: listId, dataset: { suggest: SUGGEST[key] } }, options(SUGGEST[key])),
      );
    }
    input.value = query[key] || "";
    inputs[key] = input;
    form.append(h("div", { class: "field" }, h("label", { for: id }, t(`filter.${key}`)), input));
  }
  const clear = h(
    "button",
    {
      type: "button",
      class: "btn btn-quiet",
      onclick: () => {
        const next = { ...query };
        for (const key of fields) next[key] = "";
        apply(next);
      },
    },
    t("filter.clear"),
  );
  form.append(
    h("div", { class: "field field-actions", hidden: !isFiltered(query, fields) }, clear),
  );
  return {
    element: form,
    focus() {
      inputs[fields[0]]?.focus();
    },
  };
}

/** True when any of `fields` has a value in `query`. */
export function isFiltered(query, fields) {
  return fields.some((key) => query[key]);
}
