// The words beside the diagram: the step's command and result, its narration (safe HTML from
// the server's Markdown renderer) and the kernel functions that acted (fn + text).
import { el, html } from "./dom.js";
import { tagWord } from "./vocab.js";

// Words a page may change: a classroom follower's question is revealed by the presenter.
export const wording = { held: "outcome hidden until you answer" };

// "→ ok", with the expectation's verdict in words and a symbol (never colour alone).
export function resultLine(pane) {
  if (pane.command === null) return el("span", { class: "result muted" }, "the start: nothing has run yet");
  if (pane.held) return el("span", { class: "result muted" }, wording.held);
  const parts = [el("span", { class: "result-value" }, `→ ${pane.result}`)];
  if (pane.expected !== null) {
    parts.push(pane.ok
      ? el("span", { class: "verdict good" }, `✓ as expected (${pane.expected})`)
      : el("span", { class: "verdict bad" }, `✗ expected ${pane.expected}`));
  } else if (pane.command.startsWith("assert")) {
    parts.push(pane.ok ? el("span", { class: "verdict good" }, "✓ holds") : el("span", { class: "verdict bad" }, "✗ does not hold"));
  }
  if (!pane.ok && pane.message) parts.push(el("div", { class: "message" }, pane.message));
  return el("span", { class: "result" }, parts);
}

export function eventList(pane, onObject) {
  if (pane.held) return el("p", { class: "muted events-empty" }, "The kernel functions are shown once you have answered.");
  if (!pane.events.length) {
    return el("p", { class: "muted events-empty" }, pane.command === null ? "No kernel function has run yet." : "No kernel function changed anything.");
  }
  return el(
    "ol",
    { class: "events" },
    pane.events.map((e) =>
      el(
        "li",
        { class: "event", "data-tag": e.tag || null },
        el("code", { class: "fn" }, e.fn),
        e.tag ? el("span", { class: `tag tag-${e.tag}` }, tagWord(e.tag)) : null,
        el("span", { class: "text" }, e.text),
        e.count ? el("span", { class: "run" }, ` … and ${e.count - 1} more like it, the last: ${e.last}`) : null,
        e.count ? el("span", { class: "count" }, ` (× ${e.count})`) : null,
        e.objs.length && onObject
          ? el("button", { class: "linkish show-objs", type: "button", title: "highlight these objects",
                           onclick: () => onObject(e.objs) }, "show")
          : null,
      ),
    ),
  );
}

export function narrationBlock(markup, held) {
  if (held) return el("p", { class: "muted" }, "Predict first: the narration follows your answer.");
  return html("div", { class: "narration-text" }, markup || "<p class='muted'>(no narration for this step)</p>");
}

// The narration of every shown pane: one text when the eras agree, else one block per era, each
// under its era's badge (a step's `say:` may be a per-era map: docs/scenarios.md).
export function narrationFor(panes, held) {
  const datas = panes.map((p) => p.data).filter(Boolean);
  if (datas.length < 2 || datas.every((d) => d.narration === datas[0].narration)) {
    return narrationBlock(datas[0]?.narration, held);
  }
  if (held) return narrationBlock("", true);
  return el("div", { class: "narration-eras" }, panes.filter((p) => p.data).map((p) =>
    el("div", { class: "narration-era", "data-era": p.era },
      el("span", { class: "era-badge small" }, p.era), narrationBlock(p.data.narration, false))));
}
