// The focus view of the projector: a diagram drawn for the back row.  Instead of shrinking the
// whole union layout into the pane, it draws what the step touches (the objects its events name,
// the server's `hl` classes) and their neighbours at one large text size, shows only the fields
// that matter to the step (the title, the lines that changed, a pinned page's counts), and folds
// the rest into a "+N more" chip per column.  The text size is fixed by the screen, not by the
// content: `size` CSS px for every text, so the layout decides what fits, never how small.
//
// The geometry keeps the visual language of the layout (first process left, pages in the middle,
// the anon_vma column, the second process right) and a steady camera: an object that stays on
// screen from one step to the next keeps its place (columns and rows are sticky; the layout only
// re-packs when the sticky places no longer fit).  Two eras compared share one layout: an object
// present in both panes is drawn at the same place in both, and what differs is marked.
//
// Pure geometry: no DOM, no kernel logic.  It turns the server's frames into frames the renderer
// draws (the same JSON shape, docs/diagram.md "Frame JSON", with `fixed: true` for the camera).

import { parseId, vmaOf } from "./ids.js";
import { EXCLUSIVE_TAGS, PRIORITY, TEXT } from "./vocab.js";

export const FONT = TEXT.size; // world units of the renderer's text; the metrics are the layout's
const LINE = TEXT.line;
const CHAR = TEXT.advance;     // the browser's own width: the focus view packs text tightly
const PAD_X = 22;
const PAD_Y = 8;
const GAP_Y = 6;               // between items in a column
const GAP_BADGE = 14;          // above an item with a badge: it sits on the top edge, clear of the text (renderer.js)
const GAP_X = 50;              // between columns: room for the edges
const MARGIN = 8;

// Highlight tags, most important first (the vocabulary's priority, vocab.js).
const RANK = PRIORITY;

function rankOf(n) {
  const tags = n.hl || [];
  let best = RANK.length;
  for (const t of tags) best = Math.min(best, RANK.indexOf(t) < 0 ? RANK.length : RANK.indexOf(t));
  return best;
}

function isPrimary(n) {
  return (n.hl || []).length > 0;
}

// Whose object it is: the process a task, mm, VMA, PTE or memcg belongs to ("" for the others).
export function ownerOf(n) {
  const p = parseId(n.id);
  if (n.kind === "task") {
    const m = (n.label[1] || "").match(/^thread of (\S+)/);
    return m ? m[1] : p ? p.owner : "";
  }
  if (["mm", "vma", "pte", "memcg"].includes(n.kind)) return p ? p.owner : "";
  return "";
}

// Which column: the process sides follow the union layout (left or right of its middle), the pages
// and anon_vmas have their own.
function columnOf(n, mid) {
  if (n.kind === "page") return "M";
  if (n.kind === "anon_vma") return "A";
  return n.x < mid ? "L" : "R";
}
const COLUMN_ORDER = ["L", "M", "A", "R"];

// The lines an object shows in the focus view: its title, the lines that changed since the frame
// shown before, and the facts that matter for its kind.
// A line of "key value" pairs ("refcount 2 pins 0"), or null when it is not one.
function pairs(line) {
  const t = line.trim().split(/\s+/);
  if (t.length % 2 || t.length < 2) return null;
  const out = [];
  for (let i = 0; i < t.length; i += 2) {
    if (/^\d/.test(t[i])) return null;
    out.push([t[i], t[i + 1]]);
  }
  return out;
}

// Only the fields of a line that changed: "mapcount 2" out of "mapcount 2 anon_vma 1".
function changedPart(old, line) {
  const a = pairs(old);
  const b = pairs(line);
  if (!a || !b || a.length !== b.length || a.some((p, i) => p[0] !== b[i][0])) return line;
  return b.filter((p, i) => p[1] !== a[i][1]).map((p) => p.join(" ")).join(" ");
}

function linesFor(n, before) {
  const label = n.label || [];
  const old = before ? before.label || [] : null;
  const changed = (i) => old !== null && old[i] !== undefined && old[i] !== label[i];
  const pick = (keep) => label.map((line, i) => (i === 0 || keep(i, line) ? line : changed(i) ? changedPart(old[i], line) : null))
    .filter((line) => line !== null && line !== "");
  switch (n.kind) {
    case "pte":
      return [label[0]];
    case "vma": {
      const owner = ownerOf(n);
      // The title only: its flags and anon_vma are bookkeeping (the inspector and the words have them).
      return [label[0].replace(/^vma (\S+).*$/, `${owner}: vma $1`)];
    }
    case "page": {
      const cls = ` ${n.cls} `;
      return narrow(pick((i, line) => (cls.includes(" pinned ") && /^refcount/.test(line))
        || (isPrimary(n) && /^exclusive/.test(line) && (n.hl || []).some((t) => EXCLUSIVE_TAGS.includes(t)))));
    }
    case "mm":
      return narrow(pick((i, line) => / set$/.test(line)));
    case "holder":
      return label.map((line) => line.replace(/^\s+/, " "));
    case "task":
      return label.slice(0, 2);
    default:
      return narrow(pick(() => false));
  }
}

// Long "key value key value" lines go one pair to a line: a narrow box is worth more than a low one.
let WIDE = false;   // one line per field line (wider, lower boxes) instead of one line per pair

function narrow(lines) {
  if (WIDE) return lines;
  return lines.flatMap((line, i) => {
    const p = i > 0 && line.length > 13 ? pairs(line) : null;
    return p ? p.map((kv) => kv.join(" ")) : [line];
  });
}

function textWidth(lines) {
  return Math.max(...lines.map((l) => l.length)) * CHAR + PAD_X;
}

function boxHeight(lines) {
  return lines.length * LINE + PAD_Y;
}

// -- choosing what to show ---------------------------------------------------------------------

// Per frame: the ids in priority order.  `keep` lists what was in focus before (a step that names
// nothing, such as a read or an assert, keeps the focus of the step before it).
function priorities(frame, keep, extra) {
  const nodes = (frame.nodes || []).filter((n) => n.kind !== "legend");
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const fresh = (n) => (/ new /.test(` ${n.cls} `) ? 0 : 1);
  const primary = nodes.filter(isPrimary).sort((a, b) => rankOf(a) - rankOf(b) || fresh(a) - fresh(b) || a.y - b.y);
  const order = [];
  const seen = new Set();
  const add = (id) => {
    if (byId.has(id) && !seen.has(id)) {
      seen.add(id);
      order.push(id);
    }
  };
  const neighbours = (id) => (frame.edges || [])
    .filter((e) => e.tail === id || e.head === id)
    .map((e) => (e.tail === id ? e.head : e.tail))
    .filter((other) => byId.has(other));
  (extra || []).forEach(add);
  // Bookkeeping (anon_vma links, flags) comes after what the story is about and what changed.
  const minor = (n) => rankOf(n) >= RANK.indexOf("anon_vma");
  const changed = nodes.filter((n) => !isPrimary(n) && / changed /.test(` ${n.cls} `) && !["memcg", "anon_vma"].includes(n.kind));
  const around = (list) => list.forEach((n) => neighbours(n.id).forEach((m) => {
    const k = byId.get(m).kind;
    // A VMA comes with its rows (a header alone says little); anon_vmas only for their VMAs.
    if (k !== "mm" && k !== "task" && k !== "vma" && !(k === "anon_vma" && n.kind !== "vma")) add(m);
  }));
  if (primary.length) {
    const major = primary.filter((n) => !minor(n));
    major.forEach((n) => add(n.id));
    around(major);
    changed.forEach((n) => add(n.id));
    primary.filter(minor).forEach((n) => add(n.id));
    around(primary.filter(minor));
  } else if (keep && keep.some((id) => byId.has(id))) {
    keep.forEach(add);
  } else {
    // Nothing named and nothing to keep (the start, a jump to a quiet step): the overview, most
    // telling first: present PTEs and the pages they map, then the processes.
    nodes.filter((n) => n.kind === "pte" && !/\bnone\b/.test(n.cls)).forEach((n) => { add(n.id); neighbours(n.id).forEach(add); });
    nodes.filter((n) => n.kind === "holder").forEach((n) => { add(n.id); neighbours(n.id).forEach(add); });
    nodes.filter((n) => n.kind === "page").forEach((n) => add(n.id));
    nodes.filter((n) => n.kind === "vma").forEach((n) => add(n.id));
    nodes.filter((n) => n.kind === "task" || n.kind === "mm").forEach((n) => add(n.id));
  }
  return order;
}

// -- the layout ----------------------------------------------------------------------------------

// An item is what a column stacks: an object, or a VMA's table (its header and the PTE rows shown).
function buildItems(shown, info) {
  const items = new Map();
  for (const id of shown) {
    const n = info.get(id);
    if (n.kind === "pte") {
      const vid = vmaOf(n.id);
      const table = items.get(vid) || { id: vid, col: info.get(vid)?.col || n.col, rows: [] };
      table.rows.push(id);
      items.set(vid, table);
    } else if (n.kind === "vma") {
      if (!items.has(id)) items.set(id, { id, col: n.col, rows: [] });
    } else {
      items.set(id, { id, col: n.col, rows: [] });
    }
  }
  for (const it of items.values()) {
    const head = info.get(it.id);
    it.rows.sort((a, b) => info.get(a).y - info.get(b).y);
    const heads = head ? [head] : [];
    it.w = Math.max(...heads.concat(it.rows.map((r) => info.get(r))).map((n) => n.w));
    it.headH = head ? head.h : 0;
    it.h = it.headH + it.rows.reduce((s, r) => s + info.get(r).h, 0);
    // Pages and holders may get a badge (it sticks out above the box): room for it always, so a
    // badge that appears later moves nothing.
    it.badge = [it.id, ...it.rows].some((id) => info.get(id)?.badge || ["page", "holder"].includes(info.get(id)?.kind));
    it.sort = sortKey(head || info.get(it.rows[0]));
    // The panes that have it: objects only one era has may share a place with objects only the
    // other era has (never on screen together), as the union layout's slots do for steps.
    it.panes = new Set([it.id, ...it.rows].flatMap((id) => Object.keys(info.get(id)?.lines || {})));
  }
  return items;
}

// Order in a side column: each process together (by where the layout put it), task and mm first,
// then its VMAs; holders and memcgs after the processes.  Other columns: the layout's order.
function sortKey(n) {
  const kind = { task: 0, mm: 1, vma: 2, pte: 2, holder: 3, memcg: 4 }[n.kind] ?? 2;
  return [n.kind === "holder" || n.kind === "memcg" ? 1 : 0, n.ownerY ?? n.y, kind, n.y];
}

function cmp(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

// Stack a column's items.  Fresh: top to bottom in order.  Sticky: an item that was on screen
// keeps its place, and new items go into the free gaps (after the item before them when there is
// room there, else in the first gap that takes them).  Returns false when that does not fit.
function stack(items, height, prev, sticky) {
  const top = (it) => (it.badge ? GAP_BADGE : 0);
  const taken = [];   // [from, to, panes): intervals, gaps included
  const meets = (p, q) => [...p].some((x) => q.has(x));
  const free = (a, b, panes) => a >= 0 && b <= height - MARGIN + GAP_Y
    && taken.every(([c, d, q]) => b <= c || a >= d || !meets(panes, q));
  if (sticky) {
    for (const it of items) {
      if (!prev.has(it.id)) continue;
      it.y = prev.get(it.id);
      const a = it.y - top(it);
      const b = it.y + it.h + GAP_Y;
      if (a < MARGIN - 0.5 || !free(a, b, it.panes)) return false;
      taken.push([a, b, it.panes]);
    }
  }
  // The others in order, each in the first free place after the one before it (in its panes).
  const after = new Map();
  for (const it of items) {
    const from = Math.max(MARGIN, ...[...it.panes].map((p) => after.get(p) ?? MARGIN));
    if (!(sticky && prev.has(it.id))) {
      const need = top(it) + it.h + GAP_Y;
      const starts = [MARGIN, ...taken.map(([, d]) => d)].sort((x, y) => x - y);
      const at = starts.find((y0) => y0 >= from && free(y0, y0 + need, it.panes))
        ?? (sticky ? starts.find((y0) => free(y0, y0 + need, it.panes)) : undefined);
      if (at === undefined) return false;
      it.y = at + top(it);
      taken.push([at, at + need, it.panes]);
    }
    for (const p of it.panes) after.set(p, Math.max(after.get(p) ?? MARGIN, it.y + it.h + GAP_Y));
  }
  return true;
}

// Place the columns left to right, sticky like the rows.
function spread(cols, width, prev, sticky) {
  const total = cols.reduce((s, c) => s + c.w, 0) + GAP_X * (cols.length - 1);
  let x = sticky ? MARGIN : Math.max(MARGIN, (width - total) / 2);
  for (const c of cols) {
    const want = sticky && prev.has(c.key) ? prev.get(c.key) : null;
    c.x = want !== null && want >= x ? want : x;
    x = c.x + c.w + GAP_X;
  }
  return x - GAP_X + MARGIN <= width;
}

function arrange(items, width, height, memory, stickyOnly = false) {
  const cols = [];
  for (const key of COLUMN_ORDER) {
    const list = [...items.values()].filter((it) => it.col === key).sort((a, b) => cmp(a.sort, b.sort));
    if (!list.length) continue;
    const w = Math.max(...list.map((it) => it.w), memory.colW.get(key) || 0);
    cols.push({ key, list, w });
  }
  // Sticky columns and rows; else fresh columns with sticky rows, sticky columns with fresh rows;
  // else both fresh (columns as wide as they need now, rows packed).
  const fits = (sx, sy) => spread(cols, width, memory.colX, sx)
    && cols.every((c) => stack(c.list, height, memory.rowY, sy));
  if (fits(true, true)) return cols;
  if (stickyOnly) return null;
  const natural = () => cols.forEach((c) => { c.w = Math.max(...c.list.map((it) => it.w)); });
  if (fits(true, false)) return cols;
  natural();
  if (fits(false, true) || fits(false, false)) return cols;
  return null;
}

// -- the public part -----------------------------------------------------------------------------

// A focus layout for one pane or for two compared panes (one shared layout).
export class FocusLayout {
  constructor() {
    this.reset();
  }

  reset() {
    this.memory = { colX: new Map(), colW: new Map(), rowY: new Map(), h: new Map() };
    this.current = [null, null];           // per pane: the frame shown now
    this.before = [new Map(), new Map()];  // per pane: id -> node of the frame shown before it
    this.focus = [];                       // ids in focus at the step shown before
  }

  // A copy that can lay out a trial without moving this one's sticky places.
  clone() {
    const c = new FocusLayout();
    c.memory = { colX: new Map(this.memory.colX), colW: new Map(this.memory.colW), rowY: new Map(this.memory.rowY),
                 h: new Map(this.memory.h) };
    c.current = this.current.slice();
    c.before = this.before.map((m) => new Map(m));
    c.focus = this.focus.slice();
    return c;
  }

  // frames: one per pane (null ones are skipped); width, height: the canvas in world units
  // (16 units of text); opts.extra: ids that must be shown (pages a pick question offers).
  // Returns {frames: [frame for the renderer per pane], differs: [ids per pane], folded: n}.
  layout(frames, width, height, opts = {}) {
    // A new frame in a pane: the one shown until now becomes "before" (a redraw of the same frame,
    // after a resize, keeps what it was compared with).
    frames.forEach((f, p) => {
      if (f && f !== this.current[p]) {
        this.before[p] = new Map((this.current[p]?.nodes || []).map((n) => [n.id, n]));
        this.current[p] = f;
      }
    });
    // Two ways to draw the fields (one pair to a line: narrow and tall; or as the diagram writes
    // them: wide and low); the one that folds less wins.
    const present = frames.map((f) => new Set((f?.nodes || []).map((n) => n.id)));
    const plan = (wide) => {
      WIDE = wide;
      try {
        return planWith();
      } finally {
        WIDE = false;
      }
    };
    const planWith = () => {
      const info = new Map();
      // One description per id; with two eras the first pane that has the object describes its place,
      // and the box is as large as the larger of the two.
      frames.forEach((f, p) => {
        if (!f) return;
        const mid = f.vb[0] + f.vb[2] / 2;
        const ownerY = new Map();
        for (const n of f.nodes || []) {
          const o = ownerOf(n);
          if (o && n.kind !== "memcg") ownerY.set(o, Math.min(ownerY.get(o) ?? Infinity, n.y));
        }
        for (const n of f.nodes || []) {
          if (n.kind === "legend") continue;
          const lines = linesFor(n, this.before[p].get(n.id));
          const w = textWidth(lines);
          const h = boxHeight(lines);
          const had = info.get(n.id);
          if (had) {
            had.w = Math.max(had.w, w);
            had.h = Math.max(had.h, h);
            had.lines[p] = lines;
            had.badge = had.badge || Boolean(n.badge);
            continue;
          }
          // A box on screen keeps its height while it stays (a line fewer leaves room, not a jump).
          info.set(n.id, { id: n.id, kind: n.kind, col: columnOf(n, mid), y: n.y, ownerY: ownerY.get(ownerOf(n)),
                           w, h: Math.max(h, this.memory.h.get(n.id) || 0), lines: { [p]: lines }, badge: Boolean(n.badge) });
        }
      });
      // What to show: each pane's priorities, interleaved, so both eras get their most telling objects.
      const lists = frames.map((f) => (f ? priorities(f, this.focus, opts.extra) : []));
      const order = [];
      for (let i = 0; i < Math.max(0, ...lists.map((l) => l.length)); i++) {
        for (const l of lists) if (l[i] && !order.includes(l[i])) order.push(l[i]);
      }
      // Choose what to show, most telling first.  First without moving anything that is on screen
      // (the steady camera); only when one of the objects the step names does not fit that way, lay
      // the view out afresh.
      const primaries = new Set(frames.flatMap((f) => (f?.nodes || []).filter(isPrimary).map((n) => n.id)));
      const choose = (stickyOnly) => {
        let shown = [];
        let cols = arrange(buildItems([], info), width, height, this.memory) || [];
        let missed = false;
        const tryAdd = (want) => {
          const trial = shown.concat(want.filter((x) => info.has(x) && !shown.includes(x)));
          const placed = arrange(buildItems(trial, info), width, height, this.memory, stickyOnly);
          if (placed) {
            shown = trial;
            cols = placed;
          }
          return Boolean(placed);
        };
        for (const id of order) {
          const n = info.get(id);
          const want = n.kind === "pte" && info.has(vmaOf(n.id)) ? [vmaOf(n.id), id] : [id];
          if (!tryAdd(want) && primaries.has(id)) missed = true;
        }
        // Room left: the neighbours of what is shown (the other rows of a table shown, the pages its
        // rows map), so a quiet corner of the screen still tells the state around the focus.
        const near = new Set();
        frames.forEach((f) => (f?.edges || []).forEach((e) => {
          if (shown.includes(e.tail) && e.kind === "map") near.add(e.head);
          if (shown.includes(e.head) && e.kind === "map") near.add(e.tail);
        }));
        for (const id of info.keys()) {
          const n = info.get(id);
          if (n.kind === "pte" && shown.includes(vmaOf(n.id))) near.add(id);
        }
        for (const id of [...near].sort((a, b) => info.get(a).y - info.get(b).y)) {
          if (shown.includes(id) || !info.has(id)) continue;
          const n = info.get(id);
          tryAdd(n.kind === "pte" ? [vmaOf(n.id), id] : [id]);
        }
        // Still room: the rest, rows and pages first (a quiet screen shows the whole state).
      const rank = { pte: 0, page: 1, holder: 2, vma: 3, anon_vma: 4, task: 5, mm: 6, memcg: 7 };
      for (const id of [...info.keys()].sort((a, b) => (rank[info.get(a).kind] ?? 9) - (rank[info.get(b).kind] ?? 9) || info.get(a).y - info.get(b).y)) {
        if (shown.includes(id)) continue;
        const n = info.get(id);
        tryAdd(n.kind === "pte" ? [vmaOf(n.id), id] : [id]);
      }
      return { shown, cols, missed };
      };
      let pick = choose(true);
      if (pick.missed) pick = choose(false);
      return { ...pick, info, order };
    };
    const plans = [plan(false), plan(true)];
    // What folding costs: an object the step names (not bookkeeping) 10, one that changed or
    // neighbours the focus 3, anything else 1.
    const weight = (id) => {
      const n = frames.map((f) => (f?.nodes || []).find((m) => m.id === id)).find(Boolean);
      if (!n) return 1;
      if (isPrimary(n) && rankOf(n) < RANK.indexOf("anon_vma")) return 10;
      return / changed /.test(` ${n.cls} `) || isPrimary(n) ? 3 : 1;
    };
    const cost = (pl) => [...pl.info.keys()].filter((id) => !pl.shown.includes(id)).reduce((s, id) => s + weight(id), 0);
    const best = cost(plans[1]) < cost(plans[0]) ? 1 : 0;
    const { shown, cols, info } = plans[best];
    this.wide = best === 1;
    const folded = [...info.keys()].filter((id) => !shown.includes(id));
    // Remember the places for the next step (the steady camera).
    const colX = new Map();
    const colW = new Map();
    const rowY = new Map();
    const geo = new Map();
    for (const c of cols) {
      colX.set(c.key, c.x);
      colW.set(c.key, c.w);
      for (const it of c.list) {
        rowY.set(it.id, it.y);
        let y = it.y;
        if (info.has(it.id) && shown.includes(it.id)) {
          const head = info.get(it.id);
          geo.set(it.id, { x: c.x + c.w / 2, y: y + head.h / 2, w: c.w, h: head.h });
          y += head.h;
        }
        for (const r of it.rows) {
          const row = info.get(r);
          geo.set(r, { x: c.x + c.w / 2, y: y + row.h / 2, w: c.w, h: row.h });
          y += row.h;
        }
      }
    }
    const hs = new Map(shown.map((id) => [id, info.get(id).h]));
    this.memory = { colX, colW, rowY, h: hs };
    this.focus = shown;
    const foldedIn = (p, key) => folded.filter((id) => present[p].has(id) && info.get(id).col === key).length;
    const out = frames.map((f, p) => (f ? this._frame(f, p, geo, cols, foldedIn, width, height, frames) : null));
    const differs = frames.map((f, p) => {
      if (frames.length !== 2 || !f) return [];
      const other = frames[1 - p];
      return [...geo.keys()].filter((id) => present[p].has(id) && (!present[1 - p].has(id)
        || JSON.stringify(info.get(id).lines[p]) !== JSON.stringify(info.get(id).lines[1 - p])
        || nodeCls(f, id) !== nodeCls(other, id)));
    });
    return { frames: out, differs, folded: folded.length, shown: shown.length };
  }

  _frame(f, p, geo, cols, foldedIn, width, height) {
    const nodes = [];
    for (const n of f.nodes || []) {
      const g = geo.get(n.id);
      if (!g) continue;
      WIDE = this.wide;
      const lines = linesFor(n, this.before[p].get(n.id));
      WIDE = false;
      nodes.push({ id: n.id, kind: n.kind, x: g.x, y: g.y, w: g.w, h: g.h, label: lines, badge: n.badge || null,
                   badgeEdge: Boolean(n.badge), cls: n.cls, hl: n.hl || [], full: n.label });
    }
    // A chip per column for what did not fit (the whole layout is one key away: Z).
    for (const c of cols) {
      const count = foldedIn(p, c.key);
      if (!count) continue;
      const bottom = Math.max(MARGIN, ...c.list.map((it) => it.y + it.h)) + GAP_Y;
      const label = [`+${count} more`];
      const h = boxHeight(label);
      if (bottom + h > height) continue;
      nodes.push({ id: `fold:${c.key}`, kind: "legend", x: c.x + c.w / 2, y: bottom + h / 2, w: Math.min(c.w, textWidth(label)),
                   h, label, badge: null, cls: "legend fold", hl: [] });
    }
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const edges = [];
    for (const e of f.edges || []) {
      const a = byId.get(e.tail);
      const b = byId.get(e.head);
      if (!a || !b || a.kind === "legend") continue;
      // task -> mm -> VMA: the boxes sit together and the VMA's title names its owner; lines
      // looping between stacked boxes would only be noise.
      if (e.kind === "mm_vma" || e.kind === "task_mm") continue;
      // No edge labels: the gaps are narrow, and a holder's own text says pin or get (the line style too).
      edges.push({ ...route(a, b, {}), id: e.id, kind: e.kind, tail: e.tail, head: e.head, label: null,
                   cls: e.cls, hl: e.hl || [] });
    }
    return { era: f.era, step: f.step, caption: f.caption, vb: [0, 0, width, height], fixed: true, focus: true,
             tags: f.tags, nodes, edges, boxes: [] };
  }
}

function nodeCls(f, id) {
  const n = (f?.nodes || []).find((m) => m.id === id);
  return n ? n.cls.split(" ").filter((c) => !["new", "changed"].includes(c)).join(" ") : null;
}

// An edge between two boxes: from the side of the tail that faces the head to the head's facing
// side; within one column, a loop out to the right.
function route(a, b, e) {
  const ARROW = 12;
  let x0, y0, x1, y1, tx, ty, c0, c1;
  if (Math.abs(a.x - b.x) < 1) {
    x0 = a.x + a.w / 2; y0 = a.y;
    tx = b.x + b.w / 2; ty = b.y;
    x1 = tx + ARROW; y1 = ty;
    const out = 34 + Math.min(40, Math.abs(a.y - b.y) / 6);
    c0 = [x0 + out, y0];
    c1 = [x1 + out, y1];
  } else {
    const right = b.x > a.x;
    x0 = right ? a.x + a.w / 2 : a.x - a.w / 2; y0 = a.y;
    tx = right ? b.x - b.w / 2 : b.x + b.w / 2; ty = b.y;
    x1 = right ? tx - ARROW : tx + ARROW; y1 = ty;
    const dx = (x1 - x0) / 2;
    c0 = [x0 + dx, y0];
    c1 = [x1 - dx, y1];
  }
  const r = (v) => Math.round(v * 10) / 10;
  const out = { d: `M${r(x0)} ${r(y0)}C${r(c0[0])} ${r(c0[1])} ${r(c1[0])} ${r(c1[1])} ${r(x1)} ${r(y1)}`, tip: [r(tx), r(ty)] };
  if (e.label) out.lp = [r((x0 + x1) / 2), r((y0 + y1) / 2 - 4)];
  return out;
}
