// What the presenter's and the followers' pages share: the room's boot data, the presenter's key,
// the follower id, the status line, and the room bar's pieces.  Protocol: docs/web.md ("Rooms").
import { $, el, fill } from "./dom.js";
import { parseId } from "./ids.js";

export const roomBoot = JSON.parse(document.getElementById("room-boot").textContent);

const KEY_PREFIX = "cowviz.room.";

// The presenter's key stays in this tab (sessionStorage): a reload resumes, nobody else has it.
export function presenterSecret(code, fromPage) {
  try {
    if (fromPage) sessionStorage.setItem(KEY_PREFIX + code, fromPage);
    return fromPage || sessionStorage.getItem(KEY_PREFIX + code);
  } catch {
    return fromPage;
  }
}

// A follower's random id for this room: a reconnect or reload keeps its vote.  Nothing personal.
export function followerId(code, fid) {
  try {
    if (fid) sessionStorage.setItem(`${KEY_PREFIX}${code}.fid`, fid);
    return fid || sessionStorage.getItem(`${KEY_PREFIX}${code}.fid`);
  } catch {
    return fid || null;
  }
}

export function roomStatus(message, kind = "bad") {
  const box = $("#room-status");
  if (!box) return;
  box.hidden = !message;
  box.className = `room-status ${kind}`;
  box.textContent = message || "";
}

// A live bar chart of a vote: one row per choice, with a <meter> and the count.
export function tallyChart(poll, tally, { right = null, answerText = (c) => c } = {}) {
  const choices = poll.kind === "choice" ? poll.choices.slice() : [];
  Object.keys(tally || {}).forEach((c) => { if (!choices.includes(c)) choices.push(c); });
  const total = Object.values(tally || {}).reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...Object.values(tally || {}));
  const rows = choices.map((c) => {
    const n = (tally || {})[c] || 0;
    const isRight = right ? right.includes(c) : null;
    return el("li", { class: `bar${isRight === true ? " right" : isRight === false ? " wrong" : ""}`, "data-choice": c },
      el("span", { class: "bar-label" }, isRight === true ? `✓ ${answerText(c)}` : answerText(c)),
      el("meter", { min: "0", max: String(max), value: String(n), "aria-label": `${answerText(c)}: ${n} votes` }),
      el("span", { class: "bar-count" }, String(n)));
  });
  return [el("p", { class: "tally-total", "data-total": String(total) }, `${total} vote${total === 1 ? "" : "s"}`),
    el("ol", { class: "tally" }, rows.length ? rows : el("li", { class: "muted" }, "No votes yet."))];
}

// page:7 reads as "page 7", page:0 is the zero page, new is a page that does not exist yet.
export function choiceText(c) {
  if (c === "new") return "a new page";
  const p = parseId(c);
  if (p && p.kind === "page") return p.first === 0 && p.last === 0 ? "the zero page" : `page ${p.span}`;
  return c;
}

export function setFollowers(n) {
  fill($("#room-followers"), `${n} following`);
  document.body.dataset.followers = String(n);
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
