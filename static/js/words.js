// The diagram in words, for screen readers: object and edge names ("C's PTE for buf[0]", not
// "pte:C:buf:0").  What a step changed, in words, comes from the server (the pane's `alt`).

import { parseId } from "./ids.js";

export function idWords(id) {
  const p = parseId(id);
  switch (p ? p.kind : "") {
    case "task": return `task ${p.name}`;
    case "mm": return `${p.owner}'s mm`;
    case "vma": return `${p.owner}'s VMA ${p.name}`;
    case "pte": return `${p.owner}'s PTE${p.first !== p.last ? "s" : ""} for ${p.name}[${p.span}]`;
    case "page": return p.first === 0 && p.last === 0 ? "the zero page" : p.first !== p.last ? `pages ${p.span}` : `page ${p.span}`;
    case "anon_vma": return `anon_vma ${p.name}`;
    case "holder": return p.name;
    case "memcg": return `memcg ${p.name}`;
    default: return String(id);
  }
}

export function edgeWords(e) {
  const cls = ` ${e.cls || ""} `;
  const tail = idWords(e.tail);
  const head = idWords(e.head);
  switch (e.kind) {
    case "map": return `${tail} maps ${head}, ${cls.includes(" ro ") ? "read-only" : "writable"}`;
    case "pin": return `${tail} pins ${head} (FOLL_PIN${cls.includes(" longterm ") ? ", long-term" : ""})`;
    case "get": return `${tail} holds a reference to ${head} (FOLL_GET)`;
    case "avc": return `${tail} is linked to ${head}${cls.includes(" own ") ? " (its own anon_vma)" : " (anon_vma_chain)"}`;
    case "parent": return `the parent of ${tail} is ${head}`;
    case "root": return `the root of ${tail} is ${head}`;
    case "task_mm": return `${tail} uses ${head}`;
    case "mm_vma": return `${tail} has ${head.replace(/^.*'s /, "")}`;
    default: return `${tail} to ${head}`;
  }
}
