// The scenario editor (/edit, /edit/NAME) and the shared-scenario player (/view#s=...).
// Left: CodeMirror 6 (npm, served from node_modules through the page's import map).  Right: the
// player, re-run on the server on every edit (debounced), on the step under the cursor, with era
// switch and comparison.  The vocabulary for completion (commands, argument kinds, keys, eras) is
// the server's, in the boot data; nothing of the command language is written in this file.
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { yaml } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { $, bootData, clear, el, fill, html, showError } from "./dom.js";
import { Transport } from "./transport.js";
import { Diagram } from "./renderer.js";
import { eventList, narrationBlock, resultLine } from "./narration.js";
import { initChrome } from "./settings.js";
import { decodeShare, encodeShare, fragmentCode } from "./share.js";
import { completeAt } from "./edit-complete.js";

const boot = bootData();
const transport = new Transport();
initChrome(transport);

const DEBOUNCE_MS = 350;
const STORE_KEY = `cowviz.edit.v1:${boot.name || "new"}`;
const state = {
  draft: null, // the server's name for the text now previewed
  stepLines: [], // first line of each step
  scenario: null, // the scenario info of the last good preview
  eras: [],
  step: 0,
  panes: [],
  follow: true,
  seq: 0, // edits sent: replies to older ones are dropped
  fileText: boot.text, // what the file on the server holds (for "unsaved")
};

// -- the text to start with: a shared link, unsaved work in this browser, or the file --------------

function stored() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY));
  } catch {
    return null;
  }
}

function keep(text) {
  try {
    if (text === state.fileText) localStorage.removeItem(STORE_KEY);
    else localStorage.setItem(STORE_KEY, JSON.stringify({ text, at: Date.now() }));
  } catch {
    // Storage full or off: the work stays in the page only.
  }
}

async function initialText() {
  const code = fragmentCode("s");
  if (code === null && boot.page === "view") {
    state.linkError = "This page plays a scenario sent as a link (/view#s=…), and this link carries none. " +
      "Open a walkthrough from the library, or write one in the editor.";
    showError(state.linkError);
    return "";
  }
  if (code !== null) {
    try {
      const text = await decodeShare(code);
      state.note = "opened from a link (nothing of it is stored on the server)";
      return text;
    } catch (e) {
      state.linkError = `${e.message}.${boot.page === "view" ? "" : " The editor shows a new file instead."}`;
      showError(state.linkError);
      return boot.page === "view" ? "" : boot.text;
    }
  }
  const have = stored();
  if (have && typeof have.text === "string" && have.text !== boot.text) {
    state.note = "your unsaved changes were restored from this browser";
    return have.text;
  }
  return boot.text;
}

function status(text) {
  $("#edit-status").textContent = text;
}

// -- the editor --------------------------------------------------------------------------------

let view;
let timer;

function makeEditor(text) {
  // The editor lives in a shadow root: CodeMirror's styles then go into adopted style sheets, which
  // a Content-Security-Policy of style-src 'self' allows (a <style> element would need a nonce).
  const host = $("#editor-host");
  const shadow = host.attachShadow({ mode: "open" });
  shadow.append(el("link", { rel: "stylesheet", href: "/static/css/editor.css" }));
  const parent = el("div", { class: "cm-parent" });
  shadow.append(parent);
  view = new EditorView({
    parent,
    root: shadow,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        yaml(),
        lintGutter(),
        autocompletion({ override: [(ctx) => completeAt(ctx, boot)], activateOnTyping: true }),
        keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { save(); return true; } }]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) edited();
          else if (u.selectionSet) cursorMoved();
        }),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": "scenario YAML" }),
      ],
    }),
  });
  window.cowvizEditor = view; // for tests and the curious: the EditorView
}

function text() {
  return view.state.doc.toString();
}

function edited() {
  state.linkError = null;
  keep(text());
  document.body.dataset.dirty = String(text() !== state.fileText);
  clearTimeout(timer);
  timer = setTimeout(preview, DEBOUNCE_MS);
}

function cursorLine() {
  return view.state.doc.lineAt(view.state.selection.main.head).number;
}

function stepAtCursor() {
  const line = cursorLine();
  return state.stepLines.filter((l) => l <= line).length;
}

let cursorTimer;
function cursorMoved() {
  if (!state.follow || !state.draft) return;
  clearTimeout(cursorTimer);
  cursorTimer = setTimeout(() => {
    const n = Math.min(stepAtCursor(), state.scenario ? state.scenario.steps.length : 0);
    if (n !== state.step) goto(n);
  }, 120);
}

// Error markers: each problem at its line and column, underlining the word there.
function markProblems(errors) {
  const doc = view.state.doc;
  const diagnostics = errors.map((e) => {
    const line = doc.line(Math.max(1, Math.min(e.line, doc.lines)));
    const from = Math.min(line.from + Math.max(0, e.col - 1), line.to);
    let to = from;
    while (to < line.to && !/\s/.test(doc.sliceString(to, to + 1))) to += 1;
    return { from, to: Math.max(to, Math.min(from + 1, line.to)), severity: "error", message: e.message };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));
  const list = clear($("#problems"));
  errors.forEach((e) => list.append(el("li", { class: "problem", "data-line": e.line },
    el("button", { type: "button", class: "linkish", onclick: () => jumpTo(e.line, e.col) }, `${e.line}:${e.col}`),
    " ", e.message)));
  document.body.dataset.problems = String(errors.length);
}

function jumpTo(line, col) {
  const l = view.state.doc.line(Math.max(1, Math.min(line, view.state.doc.lines)));
  const pos = Math.min(l.from + col - 1, l.to);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

// -- the preview: the server checks and runs the text ------------------------------------------------

async function preview() {
  const seq = ++state.seq;
  const reply = await transport.request("draft", { text: text(), label: fileName() });
  if (seq !== state.seq) return; // an older edit's answer
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  showError(state.linkError || null);
  markProblems(reply.errors);
  state.stepLines = reply.step_lines;
  if (reply.errors.length) {
    status(`${reply.errors.length} problem${reply.errors.length === 1 ? "" : "s"}: the preview shows the last version that loaded`);
    document.body.classList.add("stale");
    return;
  }
  document.body.classList.remove("stale");
  status(state.note || (text() === state.fileText ? "no changes" : "unsaved changes (kept in this browser)"));
  state.note = null;
  state.draft = reply.draft;
  const eras = wantedEras(reply.scenario);
  const step = state.follow ? Math.min(stepAtCursor(), reply.scenario.steps.length) : Math.min(state.step, reply.scenario.steps.length);
  await open(eras, step);
}

function wantedEras(info) {
  const ok = state.eras.length && state.eras.every((e) => info.eras.includes(e));
  if (ok) return state.eras;
  return info.compare.length === 2 ? info.compare : [info.kernel];
}

async function open(eras, step) {
  const reply = await transport.request("open", { name: state.draft, eras, step, reveal: true });
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  state.scenario = reply.scenario;
  $("#walk-title").textContent = reply.scenario.title || "Scenario";
  const erasChanged = reply.eras.join() !== state.eras.join() || !state.panes.length;
  state.eras = reply.eras;
  if (erasChanged) makePanes();
  renderEraControls();
  await showPanes(reply.panes, reply.step);
}

async function goto(step) {
  if (!state.draft) return;
  state.step = step; // at once: a second click before this step is drawn goes on from it
  const reply = await transport.request("step", { step, reveal: true });
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  await showPanes(reply.panes, reply.step);
}

async function switchEras(eras) {
  const reply = await transport.request("era", { eras, reveal: true });
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  state.eras = reply.eras;
  makePanes();
  renderEraControls();
  await showPanes(reply.panes, reply.step);
}

function makePanes() {
  const stage = clear($("#stage"));
  document.body.classList.toggle("comparing", state.eras.length === 2);
  state.panes = state.eras.map((era) => {
    const info = boot.all_eras.find((e) => e.id === era) || { kernels: "" };
    const root = el("section", { class: "pane", "data-era": era, "aria-label": `kernel era ${era}` },
      el("header", { class: "pane-head" }, el("span", { class: "era-badge" }, era),
        el("span", { class: "era-title" }, info.kernels), el("span", { class: "pane-result" })),
      el("div", { class: "diagram" }));
    stage.append(root);
    return { era, root, diagram: new Diagram(root.querySelector(".diagram")) };
  });
}

async function showPanes(panes, step) {
  state.step = step;
  document.body.dataset.step = String(step);
  const total = state.scenario.steps.length;
  $("#step-count").textContent = `${step} / ${total}`;
  $("#prev").disabled = step <= 0;
  $("#next").disabled = step >= total;
  const first = panes[0];
  fill($("#preview-head"), el("span", { class: "stepno" }, step === 0 ? "Start" : `Step ${step} of ${total}`),
    first.command ? el("code", { class: "command" }, first.command) : null);
  fill($("#narration"), narrationBlock(first.narration, false));
  const asks = clear($("#asks"));
  const events = clear($("#events"));
  panes.forEach((p, i) => {
    const pane = state.panes[i];
    if (!pane) return;
    fill(pane.root.querySelector(".pane-result"), resultLine(p));
    if (p.ask && (i === 0 || p.ask.answer !== panes[0].ask?.answer)) {
      asks.append(el("div", { class: "ask revealed", "data-era": p.era },
        html("div", { class: "ask-q" }, p.ask.question),
        el("p", { class: "ask-answer" }, state.eras.length === 2 ? `${p.era}: ` : "", "answer: ",
          el("strong", {}, p.ask.answer_text || p.ask.answer || "—"))));
    }
    events.append(el("h2", { class: "events-title" }, "Kernel functions",
      state.eras.length === 2 ? el("span", { class: "era-badge small" }, p.era) : null), eventList(p, (ids) => pane.diagram.mark("related", ids)));
  });
  await Promise.all(panes.map((p, i) => state.panes[i]?.diagram.show(p.frame)));
  document.body.dataset.previewed = String(state.seq);
}

function renderEraControls() {
  const host = clear($("#era-controls"));
  if (!state.scenario) return;
  const left = state.eras[0];
  host.append(el("span", { class: "label", id: "era-label" }, "Kernel:"));
  host.append(el("div", { class: "segmented", role: "radiogroup", "aria-labelledby": "era-label" },
    state.scenario.eras.map((era) => el("button", {
      type: "button", role: "radio", class: "era-choice", "data-era": era, "aria-checked": String(era === left),
      onclick: () => switchEras(state.eras.length === 2 ? [era, state.eras[1] === era ? state.eras[0] : state.eras[1]] : [era]),
    }, era))));
  const compare = el("select", { id: "compare-with", "aria-label": "compare with era" },
    el("option", { value: "" }, "— no comparison —"),
    state.scenario.eras.filter((e) => e !== left).map((era) => el("option", { value: era, selected: state.eras[1] === era }, `compare with ${era}`)));
  compare.addEventListener("change", () => switchEras(compare.value ? [left, compare.value] : [left]));
  host.append(compare);
}

// -- save, share ------------------------------------------------------------------------------------

function fileName() {
  const v = $("#file-name").value.trim() || boot.save_name;
  return v.endsWith(".yaml") ? v : `${v}.yaml`;
}

async function save() {
  const body = text();
  const a = el("a", { href: URL.createObjectURL(new Blob([body], { type: "text/yaml" })), download: fileName() });
  document.body.append(a);
  a.click();
  a.remove();
  if (!boot.author) {
    status(`downloaded ${fileName()} (this server writes nothing)`);
    return;
  }
  const r = await fetch("/edit/save", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: fileName(), text: body }) });
  const reply = await r.json().catch(() => ({ ok: false, error: `the server answered ${r.status}` }));
  if (!reply.ok) {
    showError(`Not saved on the server: ${reply.error}`);
    return;
  }
  state.fileText = body;
  keep(body);
  document.body.dataset.dirty = "false";
  status(`saved as ${reply.path} in the author folder (and downloaded)`);
}

async function share() {
  const box = $("#share-box");
  box.hidden = false;
  try {
    const code = await encodeShare(text());
    const base = `${location.origin}`;
    $("#share-url").value = `${base}/view#s=${code}`;
    $("#share-note").textContent = `opens in the player; ${base}/edit#s=… opens it in the editor. Nothing is stored on the server.`;
    $("#share-url").select();
    navigator.clipboard?.writeText($("#share-url").value).catch(() => {});
  } catch (e) {
    $("#share-url").value = "";
    $("#share-note").textContent = e.message;
  }
}

// -- the file changed on disk ---------------------------------------------------------------------------

async function watchFile() {
  if (!boot.name) return;
  let last = boot.stamp;
  setInterval(async () => {
    if (document.hidden) return;
    const r = await fetch(`/stamp?name=${encodeURIComponent(boot.name)}&text=1`, { cache: "no-store" }).catch(() => null);
    if (!r || !r.ok) return;
    const { stamp, text: fresh } = await r.json();
    if (last !== null && stamp !== last && typeof fresh === "string" && fresh !== state.fileText) {
      const mine = text() !== state.fileText;
      state.fileText = fresh;
      if (mine) {
        status("the file changed on disk; your unsaved version is kept (Save overwrites it)");
      } else {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: fresh } });
        status("reloaded: the file changed on disk");
      }
    }
    last = stamp;
  }, 2000);
}

// -- start ------------------------------------------------------------------------------------------

$("#file-name").value = boot.save_name;
$("#save").addEventListener("click", save);
$("#share").addEventListener("click", share);
$("#prev").addEventListener("click", () => { state.follow = false; setFollow(); goto(Math.max(0, state.step - 1)); });
$("#next").addEventListener("click", () => { state.follow = false; setFollow(); goto(state.step + 1); });
$("#follow-cursor").addEventListener("click", () => { state.follow = !state.follow; setFollow(); cursorMoved(); });
function setFollow() {
  $("#follow-cursor").setAttribute("aria-pressed", String(state.follow));
}
if (boot.page === "view") {
  $("#open-editor").hidden = false;
  $("#open-editor").href = `/edit${location.hash}`;
  $("#save").hidden = true;
  $("#share").hidden = true;
  $("#follow-cursor").hidden = true;
  state.follow = false; // no editor, so no cursor: the arrows step
  document.querySelector(".file-name").hidden = true;
}

const start = await initialText();
makeEditor(start);
watchFile();
transport.onConnect(() => preview());
