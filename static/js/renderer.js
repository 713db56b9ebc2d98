// The diagram renderer: draws a diagram frame (docs/diagram.md, "Frame JSON") as SVG, and morphs
// from the frame on screen to the next one by object id.  Geometry comes from the server's
// Graphviz layout; here we only draw it.
import * as anim from "./animations.js";
import { edgeWords } from "./words.js";
import { KEY_TAGS, TAGS, TEXT, textWidth } from "./vocab.js";

const SVG = "http://www.w3.org/2000/svg";
const LINE = TEXT.line; // px between label lines: the layout sizes boxes with the same metrics

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  return node;
}

function lastPoint(d) {
  const nums = d.match(/-?\d+(?:\.\d+)?/g) || [];
  return nums.length >= 2 ? [Number(nums[nums.length - 2]), Number(nums[nums.length - 1])] : null;
}

// The arrowhead from the end of the path to the tip: a triangle, a hollow triangle, or a diamond.
function arrowHead(base, tip, kind) {
  const [bx, by] = base;
  const [tx, ty] = tip;
  const dx = tx - bx;
  const dy = ty - by;
  const len = Math.hypot(dx, dy) || 1;
  const nx = -dy / len;
  const ny = dx / len;
  const half = Math.max(4, len * 0.45);
  if (kind === "pin") {
    const mx = bx - dx * 0.9;
    const my = by - dy * 0.9;
    return `M${tx},${ty} L${bx + nx * half},${by + ny * half} L${mx},${my} L${bx - nx * half},${by - ny * half} Z`;
  }
  return `M${tx},${ty} L${bx + nx * half},${by + ny * half} L${bx - nx * half},${by - ny * half} Z`;
}

function nodeLabelKey(n) {
  return JSON.stringify([n.label, n.badge || null]);
}

export class Diagram {
  // Camera: true follows the objects present at this step; false shows the whole layout, fixed.
  static follow = true;

  // host: the element to draw into; onPick(id, kind) is called when an object is clicked.
  constructor(host, { onPick } = {}) {
    this.host = host;
    this.onPick = onPick || (() => {});
    this.nodes = new Map(); // id -> {g, data}
    this.edges = new Map();
    this.boxes = new Map();
    this.frame = null;
    this.root = svg("svg", { class: "diagram-svg", role: "img", "aria-label": "kernel objects diagram",
                             preserveAspectRatio: "xMidYMid meet" });
    this.layers = {
      boxes: this.root.appendChild(svg("g", { class: "boxes" })),
      edges: this.root.appendChild(svg("g", { class: "edges" })),
      nodes: this.root.appendChild(svg("g", { class: "nodes" })),
    };
    this.message = document.createElement("p");
    this.message.className = "diagram-empty";
    this.message.hidden = true;
    host.replaceChildren(this.root, this.message);
    this.root.addEventListener("click", (e) => {
      const g = e.target.closest("[data-id]");
      if (g && this.nodes.has(g.dataset.id)) this.onPick(g.dataset.id, g.dataset.kind);
    });
    this.root.addEventListener("keydown", (e) => {
      const g = e.target.closest("[data-id]");
      if (g && (e.key === "Enter" || e.key === " ")) {
        e.preventDefault();
        e.stopPropagation();
        this.onPick(g.dataset.id, g.dataset.kind);
      }
    });
  }

  // Mark objects: "selected" (the inspector's), "related" (e.g. the PTEs an rmap walk found),
  // "pickable" (pages a pick question accepts).
  mark(cls, ids) {
    const want = new Set(ids || []);
    this.marks = this.marks || {};
    this.marks[cls] = want;
    for (const [id, n] of this.nodes) this._ring(n.g, n.data, cls, want.has(id));
  }

  // A mark is a ring drawn just outside the node: it shows whatever the node's own border says
  // (pinned, highlighted), and differs by dash pattern as well as colour.
  _ring(g, n, cls, on) {
    g.classList.toggle(cls, on);
    let ring = g.querySelector(`rect.ring-${cls}`);
    if (on && !ring) {
      const pad = { selected: 7, related: 5, pickable: 9, differs: 4 }[cls] || 6;
      ring = svg("rect", { class: `ring ring-${cls}`, x: -pad, y: -pad, width: n.w + 2 * pad, height: n.h + 2 * pad, rx: 10 });
      g.prepend(ring);
    } else if (!on && ring) {
      ring.remove();
    }
  }

  _reapplyMarks(g, n, id) {
    for (const [cls, want] of Object.entries(this.marks || {})) this._ring(g, n, cls, want.has(id));
  }

  empty(message) {
    this.frame = null;
    this.view = null;
    this.nodes.clear();
    this.edges.clear();
    this.boxes.clear();
    for (const layer of Object.values(this.layers)) layer.replaceChildren();
    this.root.style.display = "none";
    this.message.textContent = message;
    this.message.hidden = false;
  }

  // Show a frame; resolves when every animation of the morph has finished.
  show(frame) {
    if (!frame) {
      this.empty("No diagram for this step: the server has no diagram layout available (is Graphviz installed?).");
      return Promise.resolve();
    }
    const first = this.frame === null;
    this.message.hidden = true;
    this.root.style.display = "";
    const waits = [];
    waits.push(this._moveCamera(this._camera(frame), first));
    this._sync(this.boxes, frame.boxes || [], (b) => this._makeBox(b), (g, b) => this._placeBox(g, b), this.layers.boxes, waits, first);
    this._syncEdges(frame.edges || [], waits, first);
    this._syncNodes(frame.nodes || [], waits, first);
    this.frame = frame;
    return Promise.all(waits);
  }

  // What the camera shows: the whole layout, or (follow mode) the objects present now, so an early
  // step with three boxes is drawn large.  Objects never move within the layout; only the view zooms.
  _camera(frame) {
    const [vx, vy, vw, vh] = frame.vb;
    if (!Diagram.follow || frame.fixed) return [vx, vy, vw, vh];
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const grow = (cx, cy, w, h) => {
      x0 = Math.min(x0, cx - w / 2); y0 = Math.min(y0, cy - h / 2);
      x1 = Math.max(x1, cx + w / 2); y1 = Math.max(y1, cy + h / 2);
    };
    for (const n of frame.nodes || []) if (n.kind !== "legend") grow(n.x, n.y, n.w, n.h);
    for (const b of frame.boxes || []) grow(b.x, b.y, b.w, b.h);
    for (const e of frame.edges || []) if (e.lp) grow(e.lp[0], e.lp[1], 80, 20);
    if (!Number.isFinite(x0)) return [vx, vy, vw, vh];
    const pad = 24;
    // Never zoom in further than about 3x the whole layout: one box alone should not fill the screen.
    const w = Math.max(x1 - x0 + 2 * pad, vw * 0.33, Math.min(vw, 480));
    const h = Math.max(y1 - y0 + 2 * pad, vh * 0.33, Math.min(vh, 300));
    const cx = Math.min(Math.max((x0 + x1) / 2, vx + w / 2), vx + vw - w / 2);
    const cy = Math.min(Math.max((y0 + y1) / 2, vy + h / 2), vy + vh - h / 2);
    return [cx - w / 2, cy - h / 2, w, h];
  }

  _moveCamera(to, first) {
    // From where the camera is now: a move that takes over from one still under way starts at the
    // view that one had reached (not at its target, or the camera would stay half-way).
    const now = (this.root.getAttribute("viewBox") || "").split(" ").map(Number);
    const from = this.view && now.length === 4 && now.every(Number.isFinite) ? now : this.view;
    this.view = to;
    const ms = anim.duration(600);
    if (first || !from || ms === 0) {
      this.root.setAttribute("viewBox", to.join(" "));
      return Promise.resolve();
    }
    if (from.every((v, i) => Math.abs(v - to[i]) < 0.5)) return Promise.resolve();
    return new Promise((resolve) => {
      const start = performance.now();
      const step = (now) => {
        if (this.view !== to) return resolve();        // a newer move took over
        const t = Math.min(1, (now - start) / ms);
        const k = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;  // ease in-out
        this.root.setAttribute("viewBox", from.map((v, i) => v + (to[i] - v) * k).join(" "));
        if (t < 1) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
  }

  // Re-aim the camera after the follow setting changed.
  refit() {
    if (this.frame) this._moveCamera(this._camera(this.frame), false);
  }

  _sync(map, items, make, place, layer, waits, first) {
    const seen = new Set();
    for (const item of items) {
      seen.add(item.id);
      let rec = map.get(item.id);
      if (!rec) {
        const g = make(item);
        layer.append(g);
        rec = { g, data: item };
        map.set(item.id, rec);
        if (!first) waits.push(anim.fadeIn(g));
      } else {
        place(rec.g, item);
        rec.data = item;
      }
    }
    for (const [id, rec] of map) {
      if (!seen.has(id)) {
        map.delete(id);
        waits.push(anim.fadeOut(rec.g));
      }
    }
  }

  _makeBox(b) {
    const g = svg("g", { class: `box ${b.kind}` });
    g.append(svg("rect", { rx: 10 }));
    this._placeBox(g, b);
    return g;
  }

  _placeBox(g, b) {
    const r = g.firstChild;
    r.setAttribute("x", b.x - b.w / 2);
    r.setAttribute("y", b.y - b.h / 2);
    r.setAttribute("width", b.w);
    r.setAttribute("height", b.h);
  }

  _syncEdges(items, waits, first) {
    const seen = new Set();
    for (const e of items) {
      seen.add(e.id);
      const rec = this.edges.get(e.id);
      if (rec && rec.data.d === e.d && rec.data.label === e.label) {
        rec.g.setAttribute("class", `edge ${e.cls}`);
        rec.data = e;
        continue;
      }
      // A new edge, or one whose route changed (sandbox re-layout): draw it afresh.
      const g = this._makeEdge(e);
      if (rec) rec.g.replaceWith(g);
      else this.layers.edges.append(g);
      this.edges.set(e.id, { g, data: e });
      if (!first) {
        waits.push(anim.fadeIn(g));
        if (!rec) waits.push(anim.drawIn(g.querySelector(".line")));
      }
    }
    for (const [id, rec] of this.edges) {
      if (!seen.has(id)) {
        this.edges.delete(id);
        waits.push(anim.fadeOut(rec.g));
      }
    }
  }

  _makeEdge(e) {
    const g = svg("g", { class: `edge ${e.cls}`, "data-edge": e.id });
    const title = svg("title");
    title.textContent = edgeWords(e);
    g.append(title);
    g.append(svg("path", { class: "line", d: e.d }));
    const base = lastPoint(e.d);
    if (base && e.tip) g.append(svg("path", { class: `head head-${e.kind}`, d: arrowHead(base, e.tip, e.kind) }));
    if (e.label && e.lp) {
      const t = svg("text", { class: "edge-label", x: e.lp[0], y: e.lp[1] + 5, "text-anchor": "middle" });
      t.textContent = e.label;
      g.append(t);
    }
    return g;
  }

  _syncNodes(items, waits, first) {
    const seen = new Set();
    for (const n of items) {
      seen.add(n.id);
      const rec = this.nodes.get(n.id);
      const to = { x: n.x - n.w / 2, y: n.y - n.h / 2 };
      if (!rec) {
        const g = this._makeNode(n);
        this.layers.nodes.append(g);
        this.nodes.set(n.id, { g, data: n });
        this._reapplyMarks(g, n, n.id);
        if (!first) waits.push(anim.fadeIn(g));
        continue;
      }
      const old = rec.data;
      const from = { x: old.x - old.w / 2, y: old.y - old.h / 2 };
      const changed = nodeLabelKey(old) !== nodeLabelKey(n);
      if (changed || old.w !== n.w || old.h !== n.h) this._fillNode(rec.g, n);
      this._classNode(rec.g, n);
      this._reapplyMarks(rec.g, n, n.id);
      rec.g.setAttribute("transform", `translate(${to.x} ${to.y})`);
      rec.data = n;
      waits.push(anim.glide(rec.g, from, to));
      if (changed) waits.push(anim.flash(rec.g.querySelector("rect.shape")));
    }
    for (const [id, rec] of this.nodes) {
      if (!seen.has(id)) {
        this.nodes.delete(id);
        waits.push(anim.fadeOut(rec.g));
      }
    }
  }

  _classNode(g, n) {
    const keep = ["selected", "related", "pickable"].filter((c) => g.classList.contains(c));
    g.setAttribute("class", ["node", n.cls, ...keep].join(" "));
  }

  _makeNode(n) {
    const g = svg("g", { "data-id": n.id, "data-kind": n.kind, tabindex: n.kind === "legend" ? null : 0 });
    g.setAttribute("transform", `translate(${n.x - n.w / 2} ${n.y - n.h / 2})`);
    this._classNode(g, n);
    this._fillNode(g, n);
    return g;
  }

  _fillNode(g, n) {
    g.replaceChildren();
    const title = svg("title");
    title.textContent = n.label.join("\n");
    g.append(title);
    g.append(svg("rect", { class: "shape", width: n.w, height: n.h, rx: n.kind === "page" ? 4 : 8 }));
    const text = svg("text", { class: "label", x: 10 });
    const top = (n.h - n.label.length * LINE) / 2 + 15;
    n.label.forEach((line, i) => {
      const t = svg("tspan", { x: n.kind === "pte" ? 8 : 10, y: top + i * LINE, class: i === 0 ? "title" : null });
      t.textContent = line;
      text.append(t);
    });
    g.append(text);
    if (n.badge) {
      // Sized for label-size text: the focus view draws badges that large (cowviz.css).  There
      // (badgeEdge) the badge sits on the box's top edge, a little slimmer, so that it covers no
      // word of a box packed as tightly as the focus view packs it (focus.js GAP_BADGE).
      const [bh, lift] = n.badgeEdge ? [18, 14] : [22, 12];
      const bw = textWidth(n.badge.length) + 14;
      const bg = svg("g", { class: "badge", transform: `translate(${n.w - bw + 6} ${-lift})` });
      bg.append(svg("rect", { width: bw, height: bh, rx: bh / 2 }));
      const t = svg("text", { x: bw / 2, y: n.badgeEdge ? 15 : 16, "text-anchor": "middle" });
      t.textContent = n.badge;
      bg.append(t);
      g.append(bg);
    }
  }
}

// The key: a sample of every line and box style with what it means, drawn with the diagram's own
// classes so it always matches, then a row per tag of the vocabulary (vocab.js): a page highlighted
// as that tag is (its border, fill and badge colours come from the same /vocab.css), its timeline
// letter, its badge and, under them, what it means.  A standalone <svg> for the page's side panel.
export function keySvg() {
  const rows = [
    ["edge", "map", "PTE → page, writable"],
    ["edge", "map ro", "PTE → page, write-protected"],
    ["edge", "pin", "FOLL_PIN (pin) → page"],
    ["edge", "get", "FOLL_GET (reference) → page"],
    ["edge", "avc own", "VMA → its own anon_vma"],
    ["edge", "avc", "VMA linked (anon_vma_chain)"],
    ["node", "pte rw", "PTE present, writable (RW)"],
    ["node", "pte ro", "PTE write-protected (RO)"],
    ["node", "pte none", "PTE not present"],
    ["node", "page pinned", "page maybe DMA-pinned"],
    ["title", "", "What a step did: timeline letter, badge"],
    ...KEY_TAGS.map((t) => ["tag", t.name, t.meaning]),
  ];
  const root = svg("svg", { class: "diagram-svg key-svg", role: "img", "aria-label": "key to the diagram" });
  let y = 18;
  for (const [what, cls, words] of rows) {
    if (what === "edge") {
      const kind = cls.split(" ")[0];
      const e = svg("g", { class: `edge ${cls}` });
      e.append(svg("path", { class: "line", d: `M6 ${y} L60 ${y}` }));
      e.append(svg("path", { class: `head head-${kind}`, d: arrowHead([60, y], [72, y], kind) }));
      root.append(e);
    } else if (what === "node") {
      const g = svg("g", { class: `node ${cls}`, transform: `translate(6 ${y - 11})` });
      g.append(svg("rect", { class: "shape", width: 66, height: 22, rx: 4 }));
      root.append(g);
    } else if (what === "tag") {
      root.append(keyTag(TAGS[cls], y));
      const t = svg("text", { class: "label key-meaning", x: 44, y: y + 27 });
      t.textContent = words;
      root.append(t);
      y += 52;
      continue;
    }
    const t = svg("text", { class: what === "title" ? "label key-title" : "label", x: what === "title" ? 6 : 84, y: y + 5 });
    t.textContent = words;
    root.append(t);
    y += 30;
  }
  root.setAttribute("viewBox", `0 0 420 ${y - 8}`);
  return root;
}

// One tag's sample: a page highlighted as the tag (its letter on it) and the badge it gets.
function keyTag(tag, y) {
  const g = svg("g", { class: `node page anon hl hl-${tag.name}`, "data-tag": tag.name, transform: `translate(6 ${y - 11})` });
  g.append(svg("rect", { class: "shape", width: 30, height: 22, rx: 4 }));
  const letter = svg("text", { class: "label", x: 15, y: 16, "text-anchor": "middle" });
  letter.textContent = tag.letter || "";
  g.append(letter);
  const bw = textWidth(tag.badge.length) + 14;
  const badge = svg("g", { class: "badge", transform: "translate(38 0)" });
  badge.append(svg("rect", { width: bw, height: 22, rx: 11 }));
  const text = svg("text", { x: bw / 2, y: 16, "text-anchor": "middle" });
  text.textContent = tag.badge;
  badge.append(text);
  g.append(badge);
  return g;
}
