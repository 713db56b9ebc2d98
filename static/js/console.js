// The sandbox console: one input line with history (up/down) and completion (Tab) of commands
// and names.  Completions come from the server, which knows the grammar and the names so far.
import { clear, el } from "./dom.js";

const HISTORY_KEY = "cowviz.console-history";

function commonPrefix(words) {
  if (!words.length) return "";
  let p = words[0];
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}

export class Console {
  // onRun(text) -> Promise<bool> (true when the line ran); complete(text) -> Promise<reply>.
  constructor({ form, input, completions, usage, onRun, complete, onRestore }) {
    this.onRestore = onRestore;
    this.input = input;
    this.completionsBox = completions;
    this.usageBox = usage;
    this.onRun = onRun;
    this.complete = complete;
    this.typed = this._loadTyped();
    this.cursor = this.typed.length;
    this.draft = "";
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this._submit();
    });
    input.addEventListener("keydown", (e) => this._key(e));
    input.addEventListener("input", () => this._hint());
  }

  _loadTyped() {
    try {
      return JSON.parse(localStorage.getItem(HISTORY_KEY)) || [];
    } catch {
      return [];
    }
  }

  _remember(text) {
    if (this.typed[this.typed.length - 1] !== text) this.typed.push(text);
    this.typed = this.typed.slice(-200);
    this.cursor = this.typed.length;
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(this.typed));
    } catch {
      // History only lives for this page then.
    }
  }

  // Like a terminal: the line leaves the input at once and lines typed ahead run in order.  When
  // one fails, it comes back into the input for fixing and the lines typed after it are dropped.
  async _submit() {
    const text = this.input.value;
    if (!text.trim()) return;
    this._remember(text);
    this.input.value = "";
    this.draft = "";
    clear(this.completionsBox);
    this.pending = (this.pending || 0) + 1;
    const ticket = this.epoch || 0;
    const before = this.chain || Promise.resolve();
    this.chain = before.then(async () => {
      if (ticket !== (this.epoch || 0)) return;         // an earlier line failed: drop this one
      const ran = await this.onRun(text);
      if (!ran) {
        this.epoch = (this.epoch || 0) + 1;
        if (!this.input.value) {
          this.input.value = text;
          this.onRestore?.(text);
        }
      }
    }).finally(() => {
      this.pending -= 1;
    });
    this._hint();
    return this.chain;
  }

  _key(e) {
    if (e.key === "ArrowUp") {
      if (this.cursor === this.typed.length) this.draft = this.input.value;
      if (this.cursor > 0) this._recall(this.cursor - 1);
      e.preventDefault();
    } else if (e.key === "ArrowDown") {
      if (this.cursor < this.typed.length) this._recall(this.cursor + 1);
      e.preventDefault();
    } else if (e.key === "Tab") {
      e.preventDefault();
      this._complete();
    } else if (e.key === "Escape") {
      clear(this.completionsBox);
    }
  }

  _recall(n) {
    this.cursor = n;
    this.input.value = n === this.typed.length ? this.draft : this.typed[n];
    const end = this.input.value.length;
    this.input.setSelectionRange(end, end);
    this._hint();
  }

  async _complete() {
    const text = this.input.value.slice(0, this.input.selectionStart ?? this.input.value.length);
    const reply = await this.complete(text);
    if (!reply.ok) return;
    const word = text.slice(reply.start);
    const cands = reply.candidates;
    let insert = null;
    if (cands.length === 1) insert = cands[0] + (cands[0].endsWith("[") ? "" : " ");
    else if (cands.length > 1) {
      const p = commonPrefix(cands);
      if (p.length > word.length) insert = p;
    }
    if (insert !== null) {
      const rest = this.input.value.slice(text.length);
      this.input.value = text.slice(0, reply.start) + insert + rest;
      const at = reply.start + insert.length;
      this.input.setSelectionRange(at, at);
    }
    this._showCandidates(cands.length > 1 ? cands : [], reply.usage);
  }

  _showCandidates(cands, usage) {
    clear(this.completionsBox);
    if (cands.length) {
      this.completionsBox.append(el("span", { class: "muted" }, "Tab: "),
        ...cands.slice(0, 24).map((c) => el("button", { type: "button", class: "cand", onclick: () => this._take(c) }, c)));
      if (cands.length > 24) this.completionsBox.append(el("span", { class: "muted" }, ` … ${cands.length - 24} more`));
    }
    if (usage !== undefined) this._usage(usage);
  }

  _take(candidate) {
    const text = this.input.value;
    const m = text.match(/(\S*)$/);
    this.input.value = text.slice(0, text.length - m[1].length) + candidate + (candidate.endsWith("[") ? "" : " ");
    this.input.focus();
    this._hint();
  }

  _usage(usage) {
    clear(this.usageBox);
    if (usage) this.usageBox.append(el("span", { class: "muted" }, "usage: "), el("code", {}, usage));
  }

  // As the line changes, show the usage of its command and what may come next.
  async _hint() {
    const text = this.input.value;
    this._hintSeq = (this._hintSeq || 0) + 1;
    const seq = this._hintSeq;
    const reply = await this.complete(text);
    if (seq !== this._hintSeq || !reply.ok) return;
    this._showCandidates(reply.candidates.length <= 24 && text.trim() ? reply.candidates : [], reply.usage);
  }
}
