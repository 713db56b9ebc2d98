// The code panel: the kernel functions a step passed through, as per-era pseudocode (the server's
// pane.code, from cowviz/eras/code/), the line that decided lit with the values it saw, the call
// path as a breadcrumb, and a link to the real source at the era's tagged release (a link only).
import { el } from "./dom.js";

function lineItem(line) {
  return el("li", { class: `code-line ind-${Math.min(line.indent, 6)}${line.lit ? " lit" : ""}`,
                    "data-line": line.id || null, "aria-current": line.lit ? "true" : null },
    el("span", { class: "code-text" }, line.text),
    line.lit && line.seen ? el("span", { class: "code-seen" }, line.seen) : null,
    line.lit && line.outcome ? el("span", { class: "code-answer" }, `→ ${line.outcome}`) : null);
}

function fnBlock(f, open) {
  return el("details", { class: `code-fn${f.decided ? " decided" : ""}`, "data-fn": f.fn, open },
    el("summary", {},
      el("code", { class: "code-name" }, `${f.fn}()`),
      el("span", { class: "code-file" }, f.file)),
    // Beside the summary on screen, but not inside it: a link may not sit in an interactive element.
    el("a", { class: "code-src", href: f.href, target: "_blank", rel: "noopener noreferrer",
              title: `${f.fn}() in the real source (opens a new tab)` }, "source ↗"),
    el("p", { class: "code-title" }, f.title),
    el("ol", { class: "code-lines" }, f.lines.map(lineItem)));
}

// One pane's panel (its own era's code).
export function codePanel(data, era, comparing) {
  const head = comparing ? el("span", { class: "era-badge small" }, era) : null;
  if (data.held) return el("div", { class: "code-pane", "data-era": era }, head, el("p", { class: "muted" }, "The code is shown once you have answered."));
  const code = data.code;
  if (!code || !code.fns.length) {
    return el("div", { class: "code-pane", "data-era": era }, head,
      el("p", { class: "muted" }, data.command === null ? "No kernel function has run yet." : "No kernel function to show for this step."));
  }
  const crumbs = el("nav", { class: "code-path", "aria-label": "call path" },
    code.path.map((fn, i) => [i ? el("span", { class: "sep", "aria-hidden": "true" }, " > ") : null,
      el("code", { class: fn === code.decided ? "here" : null }, fn)]));
  // The deciding function open; the others closed (a click opens them), unless nothing decided.
  const open = (f) => (code.decided ? f.fn === code.decided || (f.decided && !code.fns.some((g) => g.fn === code.decided)) : true);
  return el("div", { class: "code-pane", "data-era": era, "data-decided": code.decided || null },
    el("div", { class: "code-head" }, head, crumbs),
    code.fns.map((f) => fnBlock(f, open(f))));
}
