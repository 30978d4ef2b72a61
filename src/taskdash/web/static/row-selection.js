// Which rows of a list are selected: a click toggles one, shift-click a range from the last
// one clicked, the header box the whole page.

export class RowSelection {
  constructor() {
    this.ids = new Set();
    this.anchor = null;
  }

  get size() {
    return this.ids.size;
  }

  has(id) {
    return this.ids.has(id);
  }

  delete(id) {
    this.ids.delete(id);
  }

  clear() {
    this.ids.clear();
  }

  /** A row's box was set to `checked`; with `shift`, so is every row back to the anchor. */
  click(items, id, { checked, shift }) {
    const index = items.findIndex((task) => task.ID === id);
    const anchorIndex = items.findIndex((task) => task.ID === this.anchor);
    const range =
      shift && anchorIndex >= 0
        ? items.slice(Math.min(index, anchorIndex), Math.max(index, anchorIndex) + 1)
        : [{ ID: id }];
    this.setAll(range, checked);
    this.anchor = id;
  }

  toggle(id) {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.anchor = id;
  }

  setAll(items, checked) {
    for (const task of items) {
      if (checked) this.ids.add(task.ID);
      else this.ids.delete(task.ID);
    }
  }

  /** Forget selected rows no longer listed. */
  keepOnly(items) {
    const listed = new Set(items.map((task) => task.ID));
    for (const id of [...this.ids]) if (!listed.has(id)) this.ids.delete(id);
  }

  /** The page box: checked when every row is, indeterminate when some are. */
  pageState(items) {
    const all = items.length > 0 && items.every((task) => this.ids.has(task.ID));
    return { checked: all, indeterminate: !all && items.some((task) => this.ids.has(task.ID)) };
  }

  selectedOf(items) {
    return items.filter((task) => this.ids.has(task.ID));
  }
}
