// Tutorial progress, kept in this browser only (localStorage): the furthest step seen per
// walkthrough, and each predict-then-reveal answer per era and step.

const KEY = "cowviz.progress.v1";

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

function save(all) {
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Private mode or a full store: progress is a convenience, the player works without it.
  }
}

function record(name) {
  const all = load();
  const rec = all[name] || { seen: 0, total: 0, answers: {} };
  return { all, rec };
}

export function progressOf(name) {
  return load()[name] || { seen: 0, total: 0, answers: {} };
}

export function markSeen(name, step, total) {
  const { all, rec } = record(name);
  rec.seen = Math.max(rec.seen || 0, step);
  rec.total = total;
  all[name] = rec;
  save(all);
}

// outcome: "right" (first try), "right-after-retry", "skipped"; "wrong" is kept until a reveal.
export function markAnswer(name, era, step, outcome) {
  const { all, rec } = record(name);
  const key = `${era}|${step}`;
  const before = rec.answers[key];
  if (before === "right" || before === "right-after-retry" || before === "skipped") return;
  if (outcome === "right" && before === "wrong") outcome = "right-after-retry";
  rec.answers[key] = outcome;
  all[name] = rec;
  save(all);
}

export function answerOf(name, era, step) {
  return progressOf(name).answers[`${era}|${step}`] || null;
}

export function isRevealed(name, era, step) {
  const a = answerOf(name, era, step);
  return a !== null && a !== "wrong";
}

export function resetProgress(name) {
  const all = load();
  delete all[name];
  save(all);
}

// A short status for the tutorial list: "not started", "step 3 of 9", "done".
export function summary(name, total) {
  const rec = progressOf(name);
  const answered = Object.values(rec.answers).filter((a) => a !== "wrong").length;
  if (!rec.seen) return { state: "new", text: "not started", answered };
  if (rec.seen >= total) return { state: "done", text: "done", answered };
  return { state: "started", text: `step ${rec.seen} of ${total}`, answered };
}
