// The quiet "12 new" pill: rows that arrived out of sight, one click away from the first.

import { h, formatNumber } from "./dom.js";
import { t } from "./i18n.js";

const PILL_MS = 8000;

export class NewRowsPill {
  /** onPick(id): show the first new row. */
  constructor(onPick) {
    this.onPick = onPick;
    this.ids = [];
    this.timer = null;
    this.element = h("button", {
      type: "button",
      class: "new-pill",
      hidden: true,
      onclick: () => this.pick(),
    });
  }

  /** New rows arrived (`rowOf(id)` is each one's tr): count those scrolled out of view. */
  announce(fresh, rowOf) {
    this.ids = [...fresh].filter((id) => {
      const rect = rowOf(id)?.getBoundingClientRect();
      return rect && (rect.bottom < 0 || rect.top > window.innerHeight);
    });
    if (!this.ids.length) return;
    this.element.textContent = t("newRows", { n: formatNumber(this.ids.length) });
    this.element.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.element.hidden = true), PILL_MS);
  }

  pick() {
    this.element.hidden = true;
    if (this.ids[0]) this.onPick(this.ids[0]);
  }
}
