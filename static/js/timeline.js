// The timeline: a scrubber over steps 0..N with a marker per step naming what happened
// (letters and shapes as well as colour), and a "?" where a question waits.
import { el, clear, fill } from "./dom.js";
import { MARKS, tagWord } from "./vocab.js";

function markerFor(tags) {
  for (const [tag, letter] of MARKS) if (tags.includes(tag)) return { tag, letter };
  return null;
}

export class Timeline {
  // onSeek(step) when the learner scrubs or clicks a marker.
  constructor(host, { onSeek }) {
    this.host = host;
    this.onSeek = onSeek;
    this.total = 0;
    this.range = el("input", { type: "range", min: 0, max: 0, value: 0, step: 1, class: "scrub", "aria-label": "step" });
    this.range.addEventListener("input", () => this.onSeek(Number(this.range.value)));
    this.marks = el("div", { class: "marks" });
    fill(host, this.range, this.marks);
  }

  // steps: the scenario's steps; timelines: [timeline per shown era]; hidden(step): true while a question waits there.
  setSteps(steps, timelines, hidden) {
    this.total = steps.length;
    this.range.max = String(this.total);
    clear(this.marks);
    this.marks.style.gridTemplateColumns = `repeat(${this.total + 1}, minmax(0, 1fr))`;
    this.marks.append(el("button", { type: "button", class: "mark start", title: "step 0: the start", onclick: () => this.onSeek(0) },
      el("span", { "aria-hidden": "true" }, "0"), el("span", { class: "sr-only" }, "step 0: the start")));
    steps.forEach((s, i) => {
      const n = i + 1;
      const perEra = timelines.map((t) => (hidden(n) ? null : markerFor(t[i].tags)));
      const differs = timelines.length === 2 && !hidden(n) && JSON.stringify(timelines[0][i].tags) !== JSON.stringify(timelines[1][i].tags);
      const failed = timelines.some((t) => !t[i].ok);
      const label = [`step ${n}: ${s.command}`];
      perEra.forEach((m) => m && label.push(tagWord(m.tag)));
      if (s.ask) label.push("a question");
      if (differs) label.push("the eras differ here");
      if (failed) label.push("an expectation fails");
      this.marks.append(el("button", {
        type: "button", class: `mark${s.ask ? " has-ask" : ""}${differs ? " differs" : ""}${failed ? " failed" : ""}`,
        title: label.join(" · "), onclick: () => this.onSeek(n),
      }, s.ask ? el("span", { class: "m-ask", "aria-hidden": "true" }, "?") : null,
         perEra.map((m) => (m ? el("span", { class: `m tag-${m.tag}`, "aria-hidden": "true" }, m.letter)
                              : el("span", { class: "m none", "aria-hidden": "true" }, "·"))),
         el("span", { class: "sr-only" }, label.join(", "))));
    });
  }

  setStep(step) {
    this.range.value = String(step);
    [...this.marks.children].forEach((m, i) => m.classList.toggle("current", i === step));
  }
}
