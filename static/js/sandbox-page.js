// The sandbox page: a console whose commands run on the server, one animated step each.
import { $, bootData, clear, fill, el, showError } from "./dom.js";
import { Transport } from "./transport.js";
import { Diagram } from "./renderer.js";
import { Inspector, changesOf } from "./inspector.js";
import { Console } from "./console.js";
import { eventList, resultLine } from "./narration.js";
import { readSandboxUrl, writeSandboxUrl } from "./urlstate.js";
import { initChrome, toggleProjector } from "./settings.js";
import { playerKeys } from "./keys.js";
import { Projector } from "./projector.js";
import { labButton } from "./lab.js";
import { openRecorder } from "./record.js";
import { decodeShare, encodeShare, fragmentCode } from "./share.js";

const boot = bootData();
const transport = new Transport();
initChrome(transport);

// A classroom room (room-sandbox.js) watches this page through these hooks.
export const room = {
  active: Boolean(document.getElementById("room-boot")),
  onApply: null, // (reply) after a sandbox state is on screen
  onRun: null, // () before the learner's own line is sent
  keep: true, // false: do not save the session in localStorage (a follower's copy of the presenter's)
  local: null, // (event, data) -> Promise of a reply in place of the server's, or of null (ask the server)
};

const SAVE_KEY = "cowviz.sandbox.v1";
// Lines typed before the sandbox is set up on the server wait for it.
let markReady;
const ready = new Promise((resolve) => { markReady = resolve; });
const state = { era: null, history: [], results: [], pane: null, started: false, selected: null, rev: null, objects: {} };

const stage = $("#stage");
const paneRoot = el("section", { class: "pane", "aria-label": "the machine" },
  el("header", { class: "pane-head" }, el("span", { class: "era-badge" }), el("span", { class: "era-title" }), el("span", { class: "pane-result" })),
  el("div", { class: "diagram" }));
stage.append(paneRoot);
const diagram = new Diagram(paneRoot.querySelector(".diagram"), { onPick: (id) => select(id) });
// Projector mode draws the focus view, as the player does (projector.js): what the last command
// touched, at a text size the back row reads; a phone draws it too, at its own size.  The Whole
// drawing button (or Z) shows all of it.
const pane = { era: null, root: paneRoot, diagram, data: null };
const projector = new Projector({ getPanes: () => (pane.data ? [pane] : []), phone: true });
const overview = $("#overview-toggle");
function showOverview(on) {
  if (projector.overview !== on) projector.toggleOverview();
  overview.setAttribute("aria-pressed", String(on));
  overview.textContent = on ? "Focus" : "Whole drawing";
}
overview.addEventListener("click", () => showOverview(!projector.overview));
playerKeys({ projector: () => toggleProjector(), zoom: () => showOverview(!projector.overview) });
const inspector = new Inspector($("#inspector"), {
  onSelect: (id, entry) => {
    diagram.mark("selected", [id]);
    diagram.mark("related", entry && entry.rmap ? entry.rmap.mappings.map((m) => m.pte) : []);
  },
});

function select(id) {
  state.selected = id;
  inspector.select(id);
}

function saved() {
  try {
    return JSON.parse(localStorage.getItem(SAVE_KEY)) || {};
  } catch {
    return {};
  }
}

function save() {
  if (!room.keep) return;
  try {
    localStorage.setItem(SAVE_KEY, JSON.stringify({ era: state.era, commands: state.history }));
  } catch {
    // Not saved: a reload starts empty.
  }
}

// Apply a server reply that carries the sandbox state; resolves when the animation has ended.
async function apply(reply) {
  state.era = reply.era;
  const p0 = reply.panes[0];
  if (reply.base !== undefined && reply.base === state.rev) {
    // A delta (docs/web.md "Deltas"): the lines from `from` on, and the inspector entries that changed.
    state.history = state.history.slice(0, reply.from).concat(reply.history);
    state.results = state.results.slice(0, reply.from).concat(reply.results);
    const objects = { ...state.objects };
    for (const id of p0.objects_delta.removed) delete objects[id];
    Object.assign(objects, p0.objects_delta.changed);
    p0.objects = objects;
  } else {
    state.history = reply.history;
    state.results = reply.results;
  }
  state.rev = reply.rev;
  state.objects = p0.objects;
  state.pane = p0;
  save();
  writeSandboxUrl(state.era);
  renderEraControls();
  renderLog();
  const p = state.pane;
  const eraInfo = boot.all_eras.find((e) => e.id === p.era);
  paneRoot.querySelector(".era-badge").textContent = p.era;
  paneRoot.querySelector(".era-title").textContent = eraInfo ? eraInfo.kernels : "";
  fill(paneRoot.querySelector(".pane-result"),
    p.command ? el("code", { class: "command" }, p.command) : null, " ", resultLine(p));
  fill($("#events"), el("h2", { class: "events-title" }, "Kernel functions"),
    eventList(p, (ids) => diagram.mark("related", ids)));
  inspector.update(p.objects, changesOf(p));
  $("#undo").disabled = state.history.length === 0;
  document.body.dataset.commands = String(state.history.length);
  pane.era = p.era;
  pane.data = p;
  await (projector.on ? projector.draw() : diagram.show(p.frame));
  if (state.selected) diagram.mark("selected", [state.selected]);
  document.body.dataset.animated = String(state.history.length);
  room.onApply?.(reply);
}

function renderLog() {
  const log = clear($("#log"));
  if (!state.history.length) log.append(el("li", { class: "muted" }, "No commands yet. Try: mmap P buf 4, write P buf[0] A, fork P C"));
  state.history.forEach((cmd, i) => log.append(el("li", {},
    el("span", { class: "n" }, String(i + 1)), el("code", {}, cmd), el("span", { class: "res" }, `→ ${state.results[i]}`))));
  log.scrollTop = log.scrollHeight;
}

function renderEraControls() {
  const host = clear($("#era-controls"));
  host.append(el("span", { class: "label", id: "era-label" }, "Kernel:"),
    el("div", { class: "segmented", role: "radiogroup", "aria-labelledby": "era-label" },
      boot.all_eras.map((e) => el("button", { type: "button", role: "radio", class: "era-choice", "data-era": e.id,
        "aria-checked": String(e.id === state.era), title: e.summary, onclick: () => request("era", { eras: [e.id] }) }, e.id))));
}

let lastError = null;

function showConsoleError(message, text) {
  const box = $("#console-error");
  clear(box);
  box.hidden = !message;
  if (!message) return;
  const m = /^console:1:(\d+): /.exec(message);
  box.append(el("div", { class: "console-message" }, "✗ ", message));
  if (m && text !== undefined) {
    const col = Number(m[1]);
    box.append(el("pre", { class: "caret" }, `${text}\n${" ".repeat(Math.max(0, col - 1))}^`));
    const input = $("#console-input");
    const end = text.slice(col - 1).search(/\s|$/) + col - 1;
    input.focus();
    input.setSelectionRange(col - 1, Math.max(col - 1, end));
  }
}

async function request(event, data) {
  if (event !== "sandbox") await ready;
  const reply = (room.local && (await room.local(event, data))) || (await transport.request(event, data));
  if (!reply.ok) {
    showError(reply.error);
    return reply;
  }
  if (event === "sandbox" || event === "reset") projector.reset(); // another machine: no places to keep
  showError(null);
  showConsoleError(null);
  await apply(reply);
  return reply;
}

const konsole = new Console({
  form: $("#console-form"),
  input: $("#console-input"),
  completions: $("#completions"),
  usage: $("#usage"),
  complete: (text) => ready.then(() => transport.request("complete", { text })),
  onRestore: (text) => showConsoleError(lastError, text),
  onRun: async (text) => {
    room.onRun?.();
    await ready;
    const reply = await transport.request("command", { text, rev: state.rev });
    if (!reply.ok) {
      // Nothing changed on the server; say where the line is wrong (the console puts it back).
      lastError = reply.error;
      showConsoleError(reply.error, text);
      return false;
    }
    showConsoleError(null);
    showError(null);
    await apply(reply);
    return true;
  },
});

$("#undo").addEventListener("click", () => request("undo", { rev: state.rev }));
$("#reset").addEventListener("click", () => {
  if (!state.history.length || window.confirm("Start again from an empty machine?")) request("reset", {});
});
$("#download").addEventListener("click", async () => {
  const reply = await transport.request("export", {});
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  const url = URL.createObjectURL(new Blob([reply.yaml], { type: "application/x-yaml" }));
  const a = el("a", { href: url, download: reply.filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

if (boot.lab) $("#lab-slot").append(labButton(transport, () => state.history.length));

$("#record").addEventListener("click", () => {
  if (!state.history.length) {
    showError("Type some commands first: Record turns them into a scenario.");
    return;
  }
  openRecorder({ transport, history: state.history, era: state.era, allEras: boot.all_eras });
});
$("#share").addEventListener("click", async () => {
  $("#share-box").hidden = false;
  try {
    const code = await encodeShare(JSON.stringify({ era: state.era, commands: state.history }));
    $("#share-url").value = `${location.origin}/sandbox#c=${code}`;
    $("#share-note").textContent = "opens this session in a sandbox; nothing is stored on the server.";
    $("#share-url").select();
  } catch (e) {
    $("#share-url").value = "";
    $("#share-note").textContent = e.message;
  }
});

// A shared session (#c=...): the link's commands, not this browser's saved ones.
async function sharedSession() {
  const code = fragmentCode("c");
  if (code === null) return null;
  try {
    const data = JSON.parse(await decodeShare(code));
    if (!data || !Array.isArray(data.commands) || !data.commands.every((c) => typeof c === "string")) {
      throw new Error("this link is broken: it does not carry a list of commands");
    }
    return { era: typeof data.era === "string" ? data.era : null, commands: data.commands };
  } catch (e) {
    linkProblem = `${e instanceof SyntaxError ? "this link is broken: it does not carry a session" : e.message}. ` +
      "Starting with an empty machine instead.";
    return { era: null, commands: [] };
  }
}
let linkProblem = null;
const shared = await sharedSession();

const sheet = $("#cheatsheet");
boot.usage.forEach((u) => sheet.append(el("li", {}, el("code", {}, u))));

export const page = { boot, transport, request, state, ready: () => ready, markReady: () => markReady() };

transport.onConnect(async () => {
  if (room.active) return; // room-sandbox.js starts the session
  // A reload or reconnect sends back the command list: the server replays it.
  const have = state.started ? { era: state.era, commands: state.history } : shared || saved();
  const era = state.started ? state.era : (shared && shared.era) || readSandboxUrl().era || have.era || boot.default_era;
  let reply = await request("sandbox", { era, commands: have.commands || [] });
  if (!reply.ok) {
    // A bad ?era= in the link: say so, and start under the default era instead.
    const problem = reply.error;
    reply = await request("sandbox", { era: boot.default_era, commands: have.commands || [] });
    if (reply.ok) showError(`${problem}; using ${boot.default_era} instead.`);
  }
  if (reply.ok) {
    state.started = true;
    markReady();
    if (reply.dropped && reply.dropped.length) showError(reply.dropped.join("\n"));
    if (linkProblem) showError(linkProblem);
    linkProblem = null;
  }
  void konsole;
});
