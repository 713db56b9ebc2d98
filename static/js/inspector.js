// The inspector: the clicked object's entry, as the server computed it from the snapshot
// (fields in kernel terms, links, and for a page the rmap walk), and what this step did to it (its
// tags, with the diagram's badges and colours: the vocabulary's, vocab.js).  Display only.
import { el, clear, fill } from "./dom.js";
import { idName } from "./ids.js";
import { TAGS } from "./vocab.js";

function fieldTable(fields) {
  return el(
    "table",
    { class: "fields" },
    el("tbody", {}, fields.map(([label, value, note]) =>
      el("tr", {}, el("th", { scope: "row" }, label), el("td", {}, String(value), note ? el("div", { class: "note" }, note) : null)))),
  );
}

function rmapBlock(rmap, follow) {
  const rows = rmap.mappings.map((m) =>
    el("tr", {},
      el("td", {}, el("button", { class: "linkish", type: "button", onclick: () => follow(m.pte) }, `${m.task} ${idName(m.vma)}[${m.index}]`)),
      el("td", {}, m.address),
      el("td", {}, m.write ? "RW" : "RO"),
      el("td", { class: m.found === false ? "bad" : m.found ? "good" : "" },
        m.found === null ? "—" : m.found ? "✓ found" : "✗ not found")));
  return el("section", { class: "rmap" },
    el("h3", {}, "rmap walk"),
    el("p", { class: "note" }, rmap.note),
    rmap.mappings.length
      ? el("table", { class: "fields rmap-table" },
          el("thead", {}, el("tr", {}, el("th", {}, "PTE"), el("th", {}, "address"), el("th", {}, "bits"), el("th", {}, "walk"))),
          el("tbody", {}, rows))
      : el("p", { class: "muted" }, "No PTE maps this page."),
    rmap.visited.length
      ? el("p", { class: "visited" }, "VMAs the walk visits: ",
          rmap.visited.map((v, i) => [i ? ", " : "", el("button", { class: "linkish", type: "button", onclick: () => follow(v.vma) }, v.vma.replace(/^vma:/, "")),
                                      v.maps ? " (maps it)" : " (does not map it)"]))
      : null);
}

// What a pane's step did to each object (its tags), for update(); nothing while a question waits.
export function changesOf(pane) {
  if (!pane || pane.held) return {};
  return Object.fromEntries((pane.frame?.nodes || []).filter((n) => n.hl).map((n) => [n.id, n.hl]));
}

export class Inspector {
  constructor(host, { onSelect } = {}) {
    this.host = host;
    this.onSelect = onSelect || (() => {});
    this.selected = null;
    this.objects = {};
    this.showEmpty();
  }

  showEmpty() {
    fill(this.host,
      el("h2", {}, "Inspector"),
      el("p", { class: "muted" }, "Click any object in the diagram: a page shows its counters and the rmap walk, a PTE its bits, an mm its pinned flag."),
    );
  }

  // New objects for a new step: keep showing the selected object if it still exists.  `changed`:
  // object id -> the step's tags on it, most important first (none while a question waits).
  update(objects, changed = {}) {
    this.objects = objects || {};
    this.changed = changed;
    if (this.selected) this.select(this.selected, false);
  }

  select(id, notify = true) {
    this.selected = id;
    const entry = this.objects[id];
    if (!entry) {
      fill(this.host,
        el("h2", {}, "Inspector"),
        el("p", { class: "muted" }, `${id} does not exist at this step.`),
      );
      if (notify) this.onSelect(id, null);
      return;
    }
    const follow = (other) => this.select(other);
    const links = (entry.links || []).filter(([, target]) => target !== id);
    const tags = (this.changed || {})[id] || [];
    fill(this.host,
      el("h2", {}, "Inspector: ", el("span", { class: "inspect-title" }, entry.title)),
      tags.length
        ? el("p", { class: "inspect-changed" }, "This step: ",
            tags.map((t) => el("span", { class: `tag tag-${t}`, title: TAGS[t]?.meaning || t }, TAGS[t]?.badge || t)))
        : null,
      entry.fields.length ? fieldTable(entry.fields) : null,
      ...(entry.rows || []).map((r) => el("details", { open: entry.rows.length <= 4 }, el("summary", {}, `[${r.index}]`), fieldTable(r.fields))),
      entry.rmap ? rmapBlock(entry.rmap, follow) : null,
      links.length
        ? el("p", { class: "links" }, "Related: ", links.map(([label, target], i) => [i ? " · " : "", el("button", { class: "linkish", type: "button", onclick: () => follow(target) }, label)]))
        : null,
    );
    if (notify) this.onSelect(id, entry);
  }
}
