// Object ids as the page reads them: the same grammar as cowviz/ids.py, which builds them
// (tests/test_ids.py runs both parsers over the same ids).  No other module splits an id.
//
//   task:P  mm:P  vma:P:buf  pte:P:buf:3  pte:P:buf:0-7  page:7  page:8-15  anon_vma:2
//   holder:nic  memcg:P

const NUM = "([0-9]{1,18})";
const SPAN = `${NUM}(?:-${NUM})?`;
const FIELD = "([^:]+)";
const GRAMMAR = {
  task: new RegExp(`^task:${FIELD}$`),
  mm: new RegExp(`^mm:${FIELD}$`),
  vma: new RegExp(`^vma:${FIELD}:${FIELD}$`),
  pte: new RegExp(`^pte:${FIELD}:${FIELD}:${SPAN}$`),
  holder: new RegExp(`^holder:${FIELD}$`),
  page: new RegExp(`^page:${SPAN}$`),
  anon_vma: new RegExp(`^anon_vma:${NUM}$`),
  memcg: new RegExp(`^memcg:${FIELD}$`),
};

function span(first, last) {
  return first === last ? String(first) : `${first}-${last}`;
}

// {kind, owner, name, first, last, span} of an object id, or null when it is not one.  `owner` is
// the process (task, mm, VMA, PTE, memcg), `name` what the id names in it, first/last a PTE's
// indices or a page's pfns.
export function parseId(id) {
  const text = String(id);
  const kind = text.slice(0, Math.max(text.indexOf(":"), 0));
  const re = Object.prototype.hasOwnProperty.call(GRAMMAR, kind) ? GRAMMAR[kind] : null;
  const m = re ? text.match(re) : null;
  if (!m) return null;
  const out = { kind, owner: null, name: null, first: null, last: null, span: null };
  if (kind === "task") Object.assign(out, { owner: m[1], name: m[1] });
  else if (kind === "holder") out.name = m[1];
  else if (kind === "mm" || kind === "memcg") Object.assign(out, { owner: m[1], name: m[1] });
  else if (kind === "vma") Object.assign(out, { owner: m[1], name: m[2] });
  else if (kind === "anon_vma") out.name = m[1];
  else {
    const at = kind === "pte" ? 3 : 1;
    const first = Number(m[at]);
    const last = m[at + 1] !== undefined ? Number(m[at + 1]) : first;
    if (kind === "pte") Object.assign(out, { owner: m[1], name: m[2] });
    Object.assign(out, { first, last, span: span(first, last) });
  }
  return out;
}

// What the id names, as it spells it (the name of task:P, the index span of a PTE, ...), or "".
export function idName(id) {
  const p = parseId(id);
  if (!p) return "";
  return p.kind === "pte" || p.kind === "page" ? p.span : p.name;
}

// The VMA id a PTE id belongs to (vma:P:buf for pte:P:buf:3), or "".
export function vmaOf(id) {
  const p = parseId(id);
  return p && p.kind === "pte" ? `vma:${p.owner}:${p.name}` : "";
}
