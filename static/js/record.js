// Record: the sandbox session becomes a scenario, opened in the editor.  The author types a
// narration per step, may add a question (a choice, or "which page will TASK VMA[I] map?"), and
// ticks the eras whose results become `expect:`; the server runs each ticked era to compute them
// (cowviz/web/record.py).  The file goes to the editor through this browser's storage: nothing is
// written on the server.
import { el } from "./dom.js";

const EDITOR_KEY = "cowviz.edit.v1:new"; // what /edit opens (static/js/edit-page.js)

function stepRow(cmd, i) {
  const kind = el("select", { class: "ask-kind", "aria-label": `question for step ${i + 1}` },
    el("option", { value: "" }, "no question"), el("option", { value: "choice" }, "question: choices"),
    el("option", { value: "pick" }, "question: pick the page"));
  const fields = el("div", { class: "ask-fields", hidden: true },
    el("label", {}, "Question ", el("input", { class: "q", "aria-label": `question text for step ${i + 1}` })),
    el("label", { class: "for-choice" }, "Choices (one per line) ", el("textarea", { class: "choices", rows: 3 })),
    el("label", { class: "for-choice" }, "Right answer ", el("input", { class: "answer" })),
    el("label", { class: "for-pick" }, "Whose page (TASK VMA[I]) ", el("input", { class: "of", placeholder: "C buf[0]" })),
    el("label", {}, "Explanation ", el("input", { class: "explain" })));
  kind.addEventListener("change", () => {
    fields.hidden = !kind.value;
    fields.querySelectorAll(".for-choice").forEach((n) => { n.hidden = kind.value !== "choice"; });
    fields.querySelectorAll(".for-pick").forEach((n) => { n.hidden = kind.value !== "pick"; });
  });
  return el("li", { class: "record-step", "data-step": i + 1 },
    el("code", {}, cmd),
    el("textarea", { class: "say", rows: 2, placeholder: "What happens here, and why (Markdown)", "aria-label": `narration for step ${i + 1}` }),
    kind, fields);
}

function collect(dialog) {
  const steps = [...dialog.querySelectorAll(".record-step")].map((row) => {
    const out = { say: row.querySelector(".say").value };
    const kind = row.querySelector(".ask-kind").value;
    if (kind) {
      out.ask = { kind, question: row.querySelector(".q").value, explain: row.querySelector(".explain").value };
      if (kind === "choice") {
        out.ask.choices = row.querySelector(".choices").value.split("\n").map((s) => s.trim()).filter(Boolean);
        out.ask.answer = row.querySelector(".answer").value.trim();
      } else {
        out.ask.of = row.querySelector(".of").value.trim();
      }
    }
    return out;
  });
  return {
    title: dialog.querySelector(".rec-title").value,
    summary: dialog.querySelector(".rec-summary").value,
    eras: [...dialog.querySelectorAll(".rec-era:checked")].map((b) => b.value),
    steps,
  };
}

// Open the record dialog for `history` (the command lines) under `era`; transport sends `record`.
export function openRecorder({ transport, history, era, allEras, onError }) {
  document.getElementById("record-dialog")?.remove();
  const dialog = el("dialog", { id: "record-dialog", class: "record-dialog", "aria-labelledby": "record-title" },
    el("form", { method: "dialog", class: "record-form" },
      el("h2", { id: "record-title" }, "Record this session as a scenario"),
      el("label", {}, "Title ", el("input", { class: "rec-title", value: "My scenario", required: true })),
      el("label", {}, "Summary ", el("textarea", { class: "rec-summary", rows: 2 })),
      el("fieldset", { class: "rec-eras" }, el("legend", {}, "Expect the results of these eras (each one is run)"),
        allEras.map((e) => el("label", {}, el("input", { type: "checkbox", class: "rec-era", value: e.id, checked: e.id === era }), ` ${e.id}`))),
      el("ol", { class: "record-steps" }, history.map(stepRow)),
      el("p", { class: "record-error error-text", role: "alert", hidden: true }),
      el("div", { class: "record-buttons" },
        el("button", { type: "button", class: "primary rec-open" }, "Open in the editor"),
        el("button", { type: "button", class: "rec-cancel" }, "Cancel"))));
  document.body.append(dialog);
  dialog.querySelector(".rec-cancel").addEventListener("click", () => dialog.close());
  dialog.querySelector(".rec-open").addEventListener("click", async () => {
    const reply = await transport.request("record", collect(dialog));
    const box = dialog.querySelector(".record-error");
    if (!reply.ok) {
      box.hidden = false;
      box.textContent = reply.error;
      onError?.(reply.error);
      return;
    }
    try {
      localStorage.setItem(EDITOR_KEY, JSON.stringify({ text: reply.yaml, at: Date.now() }));
    } catch {
      box.hidden = false;
      box.textContent = "This browser's storage is full or off: use Download instead.";
      return;
    }
    location.href = "/edit";
  });
  dialog.showModal();
  return dialog;
}
