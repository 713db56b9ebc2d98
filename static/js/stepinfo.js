// What the player says about a step besides the narration: the start card (step 0 shows the
// walkthrough's title and its starting state), the step's text alternative (the server's `alt`,
// read by screen readers, one per pane), and the on-screen key to the timeline's letters.
import { el, fill } from "./dom.js";
import { MARKS, tagWord } from "./vocab.js";

// Step 0: a card above the diagram with the title and, in words, what exists at the start.
export function startCard(pane, data, info) {
  let card = pane.root.querySelector(".start-card");
  if (!card) {
    card = el("div", { class: "start-card" });
    pane.root.querySelector(".diagram").before(card);
  }
  const show = data.step === 0 && Boolean(info);
  card.hidden = !show;
  pane.root.classList.toggle("at-start", show);
  pane.root.classList.toggle("empty-start", show && !(data.frame?.nodes || []).length);
  if (show) {
    fill(card, el("p", { class: "start-title" }, info.title),
      el("p", { class: "start-state" }, (data.alt || "").replace(/^the start: /, "Starting state: ")));
  }
  // Each pane's text alternative, kept beside its diagram for screen readers.
  let alt = pane.root.querySelector(".pane-alt");
  if (!alt) {
    alt = el("p", { class: "pane-alt sr-only" });
    pane.root.append(alt);
  }
  alt.textContent = `${pane.era}, what the diagram shows changing: ${data.alt || ""}`;
}

// The words of every pane, for the page's live announcement.
export function stepAlt(panes) {
  const shown = panes.filter((p) => p.data && p.data.alt);
  if (!shown.length) return "";
  if (shown.length === 1) return shown[0].data.alt;
  return shown.map((p) => `${p.era}: ${p.data.alt}`).join(". ");
}

// The letters the timeline uses in this walkthrough, with their meanings, on screen.
export function timelineKey(host, timelines) {
  if (!host) return;
  const used = new Set();
  for (const t of timelines) for (const s of t || []) for (const tag of s.tags) used.add(tag);
  const letters = [];
  const seen = new Set();
  for (const [tag, letter] of MARKS) {
    if (!used.has(tag) || seen.has(`${letter}${tagWord(tag)}`)) continue;
    seen.add(`${letter}${tagWord(tag)}`);
    letters.push(el("span", { class: "tl-key-item" }, el("span", { class: `m tag-${tag}`, "aria-hidden": "true" }, letter),
      ` ${tagWord(tag)}`));
  }
  fill(host, el("span", { class: "tl-key-title" }, "Timeline:"), letters,
    el("span", { class: "tl-key-item" }, el("span", { class: "m-ask", "aria-hidden": "true" }, "?"), " question"),
    timelines.length === 2 ? el("span", { class: "tl-key-item" }, el("span", { class: "m-differs", "aria-hidden": "true" }, "≠"), " eras differ") : null);
}
