// Predict-then-reveal: the question box of a held step.  The server keeps the outcome back
// until the learner answers; it checks the answer and sends the revealed step.
import { el, html } from "./dom.js";

// ask: the pane's ask; state: {feedback, revealed, verdict}; handlers: {onChoice(choice), onSkip()}.
// state.repeat: the same question was just asked for the other era, so it is not printed again.
export function askBox(ask, era, state, handlers) {
  const box = el("div", { class: `ask${state.revealed ? " revealed" : ""}${state.repeat ? " repeat" : ""}`, role: "group",
                          "aria-label": `question for ${era}` });
  box.append(el("div", { class: "ask-head" }, el("span", { class: "ask-mark", "aria-hidden": "true" }, "?"),
    el("span", {}, state.revealed ? `Your prediction (${era})` : state.repeat ? `And under ${era}?` : `Predict under ${era}`)));
  if (!state.repeat) box.append(html("p", { class: "question" }, ask.question));
  if (!state.revealed) {
    if (ask.kind === "choice") {
      box.append(el("div", { class: "choices" }, ask.choices.map((c) =>
        el("button", { type: "button", class: "choice", "data-choice": c, onclick: () => handlers.onChoice(c) }, c))));
    } else {
      box.append(el("p", { class: "pick-help" }, `Click the page in the ${era} diagram, or:`),
        el("div", { class: "choices" },
          el("button", { type: "button", class: "choice", "data-choice": "new", onclick: () => handlers.onChoice("new") }, "a page that does not exist yet")));
    }
    box.append(el("div", { class: "ask-actions" },
      el("button", { type: "button", class: "skip", onclick: () => handlers.onSkip() }, "Skip: show me")));
    if (state.feedback) box.append(el("p", { class: "feedback bad", role: "status" }, `✗ ${state.feedback}`));
    return box;
  }
  const verdict = state.verdict === "right"
    ? el("p", { class: "feedback good", role: "status" }, `✓ Right: ${ask.answer_text}.`)
    : state.verdict === "right-after-retry"
      ? el("p", { class: "feedback good", role: "status" }, `✓ Right (on a second try): ${ask.answer_text}.`)
      : el("p", { class: "feedback", role: "status" }, `The answer: ${ask.answer_text}.`);
  box.append(verdict);
  if (ask.explain) box.append(html("div", { class: "explain" }, ask.explain));
  return box;
}
