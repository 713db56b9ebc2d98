// The diagram in words, for screen readers: object and edge names ("C's PTE for buf[0]", not
// "pte:C:buf:0").  What a step changed, in words, comes from the server (the pane's `alt`).

export function idWords(id) {
  const p = String(id).split(":");
  switch (p[0]) {
    case "task": return `task ${p[1]}`;
    case "mm": return `${p[1]}'s mm`;
    case "vma": return `${p[1]}'s VMA ${p[2]}`;
    case "pte": return p[3] && p[3].includes("-") ? `${p[1]}'s PTEs for ${p[2]}[${p[3]}]` : `${p[1]}'s PTE for ${p[2]}[${p[3]}]`;
    case "page": return p[1] === "0" ? "the zero page" : p[1].includes("-") ? `pages ${p[1]}` : `page ${p[1]}`;
    case "anon_vma": return `anon_vma ${p[1]}`;
    case "holder": return p[1];
    case "memcg": return `memcg ${p[1]}`;
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
