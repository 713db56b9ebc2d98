// "Run on this machine": the live-kernel lab's report (docs/lab.md), model beside kernel, step by step.
import { el, fill } from "./dom.js";

const MARK = { agree: "✓ agree", differ: "✗ differ", skipped: "– skipped", unchecked: "? unchecked", error: "! error" };

function reportView(report, currentStep) {
  const c = report.counts;
  const head = `Model ${report.era} against this machine's kernel, Linux ${report.kernel}: ` +
    `${c.agree} agree, ${c.differ} differ` + (c.skipped ? `, ${c.skipped} skipped` : "") +
    (c.unchecked ? `, ${c.unchecked} unchecked` : "") + (c.error ? `, ${c.error} error` : "");
  return [
    el("p", { class: report.ok ? "lab-summary good" : "lab-summary bad" }, report.ok ? "✓ " : "✗ ", head),
    report.error ? el("p", { class: "error" }, report.error) : null,
    el("table", { class: "fields lab-table" },
      el("thead", {}, el("tr", {}, ["step", "command", "model", "kernel", "verdict"].map((h) => el("th", {}, h)))),
      el("tbody", {}, report.rows.map((r) => [
        el("tr", { class: `verdict-${r.verdict}${r.index === currentStep ? " current" : ""}` },
          el("td", {}, String(r.index)), el("td", {}, el("code", {}, r.command)),
          el("td", {}, r.model), el("td", {}, r.kernel), el("td", { class: "lab-verdict" }, MARK[r.verdict] || r.verdict)),
        r.differences.length || r.note
          ? el("tr", { class: "lab-notes" }, el("td", {}), el("td", { colspan: 4 },
              r.differences.map((d) => el("div", { class: "bad" }, "! ", d)), r.note ? el("div", { class: "note" }, r.note) : null))
          : null,
      ]))),
    el("details", {}, el("summary", {}, "What the lab cannot see"),
      el("ul", {}, report.cannot_observe.map((w) => el("li", {}, w)))),
  ];
}

// A button that probes on request and shows the report in a dialog.
export function labButton(transport, currentStep) {
  const dialog = el("dialog", { class: "lab-dialog", "aria-label": "run on this machine" });
  const body = el("div", { class: "lab-body" });
  dialog.append(el("div", { class: "lab-head" }, el("h2", {}, "Run on this machine"),
    el("button", { type: "button", class: "close", onclick: () => dialog.close() }, "Close")), body);
  document.body.append(dialog);
  const button = el("button", { type: "button", id: "lab-run", title: "Replay these commands with real processes on this machine's kernel and compare with the model" },
    "⚙ Run on this machine");
  button.addEventListener("click", async () => {
    button.disabled = true;
    fill(body, el("p", { class: "muted" }, "Running real processes on this machine…"));
    dialog.showModal();
    const reply = await transport.request("lab", {});
    button.disabled = false;
    fill(body, reply.ok ? reportView(reply.lab, currentStep()) : el("p", { class: "error" }, reply.error));
  });
  return button;
}
