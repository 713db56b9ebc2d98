// The player page: a walkthrough under one era, or two eras side by side, step by step.
import { $, bootData, clear, fill, el, html, showError } from "./dom.js";
import { Transport } from "./transport.js";
import { Player } from "./player.js";
import { Store } from "./store.js";
import { Diagram } from "./renderer.js";
import { Timeline } from "./timeline.js";
import { Inspector, changesOf } from "./inspector.js";
import { askBox } from "./ask.js";
import { eventList, narrationFor, resultLine } from "./narration.js";
import { readPlayUrl, writePlayUrl } from "./urlstate.js";
import { answerOf, isRevealed as learnerRevealed, markAnswer, markSeen } from "./progress.js";
import { initChrome, isTyping, toggleProjector, viewToggle } from "./settings.js";
import { labButton } from "./lab.js";
import { Projector } from "./projector.js";
import { playerKeys, radioArrows } from "./keys.js";
import { startCard, stepAlt, timelineKey } from "./stepinfo.js";
import { codePanel } from "./code-panel.js";

const boot = bootData();
const transport = new Transport();
initChrome(transport);

// A classroom room (room-play.js) watches and drives this page through these hooks.
export const room = {
  active: Boolean(document.getElementById("room-boot")),
  revealed: null, // (era, step) -> bool: in a room the presenter's reveals count, not the learner's progress
  onShow: null, // (step) after a step is on screen
  onSelect: null, // ({pane, id}) the inspector selection changed
  onAnswer: null, // (index, choice) -> true when the room takes the answer (a follower's vote)
  onReveal: null, // (era, step) a question was revealed here
  local: null, // (event, data) -> Promise of the reply: answers open/step/era in place of the server (a follower's packs)
};
const request = (event, data) => (room.local ? room.local(event, data) : transport.request(event, data));
function isRevealed(name, era, step) {
  return room.revealed ? room.revealed(era, step) : learnerRevealed(name, era, step);
}

// What the page shows, in one store (store.js) the views subscribe to; only store.set() changes it.
const store = new Store({
  info: null, // the walkthrough, from the server's open reply
  eras: [], // the era shown, or the two compared
  timelines: {}, // per era: the scrubber's markers
  step: 0, // the step on screen (0: the start)
  total: 0, // the walkthrough's number of steps
  playing: false,
  speed: 1,
  selected: null, // {pane index, id}
  opened: false,
});
// The views of the shown eras: {era, root, diagram, askSlot, events, data (the server's pane), ask: {feedback}}.
let panes = [];
// The page's state as other modules read it (room-play.js): the store's, and the panes.
const state = {
  get info() { return store.state.info; },
  get eras() { return store.state.eras; },
  get timelines() { return store.state.timelines; },
  get selected() { return store.state.selected; },
  get opened() { return store.state.opened; },
  get panes() { return panes; },
};

const stage = $("#stage");
// Projector mode draws the focus view (projector.js); pick questions need every page on screen.
const projector = new Projector({ getPanes: () => state.panes,
  extraIds: (p) => (p.data?.held && p.data.ask?.kind === "pick" ? (p.data.frame?.nodes || []).filter((n) => n.kind === "page").map((n) => n.id) : []) });
const follow = viewToggle("follow-toggle", "cowviz.follow", true, ["Zoom: fit step", "Zoom: whole"], (on) => {
  Diagram.follow = on;
  state.panes?.forEach((p) => p.diagram.refit());
});
const focus = viewToggle("focus-toggle", "cowviz.focus", false, ["Diagram only: on", "Diagram only"], (on) => {
  document.body.classList.toggle("focus", on);
  arrangeComparison();
  projector.redraw();
});
// Code view: the kernel code in place of the narration and the event list (code-panel.js).
const codeView = viewToggle("code-toggle", "cowviz.code", false, ["Code: on", "Code"], (on) => {
  document.body.classList.toggle("code-view", on);
  if (on) requestAnimationFrame(() => showLitLines($("#code")));   // drawn hidden: place the lit lines now
});
const inspector = new Inspector($("#inspector"), { onSelect: (id, entry) => markSelection(id, entry) });
const timeline = new Timeline($("#timeline"), { onSeek: (n) => player.goto(n) });
const player = new Player({ store, load: loadStep, onBlocked: nudgeAsk,
                            held: () => state.panes.some((p) => p.data && p.data.held) });
store.subscribe(renderControls, ["step", "total", "playing", "speed"]);

// Next was pressed while a question waits: bring the question into view and make it pulse.
function nudgeAsk() {
  const box = document.querySelector(".ask:not(.revealed)");
  if (!box) return;
  box.scrollIntoView({ block: "nearest" });
  box.classList.remove("nudge");
  void box.offsetWidth;
  box.classList.add("nudge");
  box.querySelector("button")?.focus();
}

// -- talking to the server -------------------------------------------------------------------

function revealFor(step) {
  return state.eras.filter((era) => isRevealed(boot.name, era, step));
}

async function openAt(eras, step) {
  const wantEras = eras || defaultEras();
  let reply = await request("open", { name: boot.name, eras: wantEras, step: step ?? 0,
    reveal: wantEras.filter((era) => isRevealed(boot.name, era, Number(step) || 0)) });
  if (!reply.ok) {
    // A bad deep link (unknown era, step out of range): say so, and open the start instead.
    const problem = reply.error;
    reply = await request("open", { name: boot.name, eras: defaultEras(), step: 0,
      reveal: defaultEras().filter((era) => isRevealed(boot.name, era, 0)) });
    if (!reply.ok) {
      showError(reply.error);
      return;
    }
    showError(`This link could not be opened as it is: ${problem}. Showing the start instead.`);
  } else {
    showError(null);
  }
  store.set({ info: reply.scenario, total: reply.scenario.steps.length });
  await applyEras(reply);
  store.set({ opened: true });
  afterShow(reply.step);
}

function defaultEras() {
  return boot.compare.length === 2 ? boot.compare : [boot.kernel];
}

async function loadStep(step) {
  if (!state.opened) return { ok: false };
  const reply = await request("step", { step, reveal: revealFor(step) });
  if (!reply.ok) {
    showError(reply.error);
    return { ok: false };
  }
  await showStep(reply);
  return { ok: true };
}

// A step's reply ({step, panes}) on screen: from our own request, or pushed by a room.
async function showStep(reply) {
  showError(null);
  await showPanes(reply.panes);
  afterShow(reply.step);
}

async function switchEras(eras) {
  const reply = await request("era", { eras, step: store.state.step, reveal: eras.filter((era) => isRevealed(boot.name, era, store.state.step)) });
  if (!reply.ok) {
    showError(reply.error);
    renderEraControls();
    return;
  }
  showError(null);
  await applyEras(reply);
  afterShow(reply.step);
}

async function answer(index, choice) {
  if (room.onAnswer && room.onAnswer(index, choice)) return;
  const pane = state.panes[index];
  const step = pane.data.step;
  const reply = await transport.request("answer", { step, era: pane.era, choice });
  if (!reply.ok) {
    showError(reply.error);
    return;
  }
  if (reply.correct === false) {
    markAnswer(boot.name, pane.era, step, "wrong");
    pane.ask.feedback = reply.hint;
    renderPaneText(index);
    pane.askSlot.querySelector(".choice")?.focus();
    return;
  }
  markAnswer(boot.name, pane.era, step, reply.correct ? "right" : "skipped");
  room.onReveal?.(pane.era, step);
  pane.ask.feedback = null;
  await showPane(index, reply.pane);
  afterShow(step);
  // The focus goes to what answered: this era's revealed box, or the next era's question.
  const waiting = state.panes.find((p) => p.data.held);
  const target = waiting ? waiting.askSlot.querySelector(".choice") : pane.askSlot.querySelector(".ask");
  if (target && !waiting) target.setAttribute("tabindex", "-1");
  target?.focus();
  if (!state.panes.some((p) => p.data.held)) player.revealed();
}

// -- drawing -------------------------------------------------------------------------------------

async function applyEras(reply) {
  store.set({ eras: reply.eras, timelines: reply.timelines });
  document.body.classList.toggle("comparing", state.eras.length === 2);
  clear(stage);
  clear($("#asks"));
  clear($("#events"));
  panes = state.eras.map((era, index) => makePane(era, index));
  projector.reset();
  timeline.setSteps(state.info.steps, state.eras.map((e) => state.timelines[e]), (n) => stepHidden(n));
  renderEraControls();
  renderScenarioInfo();
  await showPanes(reply.panes);
}

function stepHidden(n) {
  const s = state.info.steps[n - 1];
  return Boolean(s && s.ask && state.eras.some((era) => !isRevealed(boot.name, era, n)));
}

function makePane(era, index) {
  const eraInfo = boot.all_eras.find((e) => e.id === era) || { id: era, title: "", kernels: "" };
  const root = el("section", { class: "pane", "data-era": era, "aria-label": `kernel era ${era}` },
    el("header", { class: "pane-head" },
      el("span", { class: "era-badge" }, era),
      el("span", { class: "era-title" }, eraInfo.kernels),
      el("span", { class: "pane-result" })),
    el("div", { class: "diagram" }));
  stage.append(root);
  const diagram = new Diagram(root.querySelector(".diagram"), { onPick: (id, kind) => onPick(index, id, kind) });
  const askSlot = el("div", { class: "ask-slot", "data-era": era });
  const events = el("div", { class: "pane-events", "data-era": era });
  $("#asks").append(askSlot);
  $("#events").append(events);
  return { era, root, diagram, askSlot, events, data: null, ask: { feedback: null } };
}

function showPanes(panes) {
  const drawn = Promise.all(panes.map((p, i) => showPane(i, p)));
  arrangeComparison();
  return drawn;
}

// Side by side or stacked: whichever gives the two diagrams the larger scale on this screen.
function arrangeComparison() {
  if (!state || state.eras.length !== 2 || projector?.on) return;
  const vb = state.panes[0].data?.frame?.vb;
  const box = stage.getBoundingClientRect();
  let cols = true;
  if (vb) {
    const head = 48;
    const sideBySide = Math.min(box.width / 2 / vb[2], (box.height - head) / vb[3]);
    const stacked = Math.min(box.width / vb[2], (box.height / 2 - head) / vb[3]);
    cols = sideBySide >= stacked;
  }
  document.body.classList.toggle("compare-cols", cols);
  document.body.classList.toggle("compare-rows", !cols);
}
window.addEventListener("resize", arrangeComparison);

function showPane(index, data) {
  const pane = state.panes[index];
  const stepChanged = !pane.data || pane.data.step !== data.step;
  if (stepChanged) pane.ask.feedback = null;
  pane.data = data;
  // While a question waits the diagram shows the state before the step: last step's highlights would mislead.
  pane.root.classList.toggle("held", Boolean(data.held));
  renderPaneText(index);
  const drawn = projector.on ? projector.draw() : pane.diagram.show(data.frame);
  startCard(pane, data, state.info);
  if (index === selectedPaneIndex()) inspector.update(data.objects, changesOf(data));
  if (data.held && data.ask && data.ask.kind === "pick") {
    pane.diagram.mark("pickable", (data.frame?.nodes || []).filter((n) => n.kind === "page").map((n) => n.id));
  } else {
    pane.diagram.mark("pickable", []);
  }
  restoreMarks(index);
  return drawn;
}

function renderPaneText(index) {
  const pane = state.panes[index];
  const data = pane.data;
  fill(pane.root.querySelector(".pane-result"), resultLine(data));
  const slot = clear(pane.askSlot);
  if (data.ask) {
    const verdict = answerOf(boot.name, pane.era, data.step);
    const other = index > 0 ? state.panes[0].data : null;
    const repeat = Boolean(other && other.ask && other.ask.question === data.ask.question && other.step === data.step);
    slot.append(askBox(data.ask, pane.era, { revealed: !data.held, feedback: pane.ask.feedback, verdict, repeat },
      { onChoice: (c) => answer(index, c), onSkip: () => answer(index, "skip") }));
  }
  const comparing = state.eras.length === 2;
  fill(pane.events,
    el("h2", { class: "events-title" }, "Kernel functions", comparing ? el("span", { class: "era-badge small" }, pane.era) : null),
    eventList(data, (ids) => pane.diagram.mark("related", ids)));
  fill($("#code"), state.panes.map((p) => (p.data ? codePanel(p.data, p.era, comparing) : null)));
  showLitLines($("#code"));
  renderSide();
}

// Each code pane scrolls its own lit line into view (the two eras' lines may sit at different heights),
// with the deciding function's name above it where both fit; the call path shows its deciding end.
function showLitLines(box) {
  box.querySelectorAll(".code-pane").forEach((pane) => {
    const path = pane.querySelector(".code-path");
    if (path) path.scrollLeft = path.scrollWidth;
    const lit = pane.querySelector(".code-fn[open] .code-line.lit");
    if (!lit) return;
    let scroller = pane;
    while (scroller && !(scroller.scrollHeight > scroller.clientHeight && /(auto|scroll)/.test(getComputedStyle(scroller).overflowY))) {
      scroller = scroller.parentElement;
    }
    if (!scroller || scroller === document.body || scroller === document.documentElement) return;
    // Never scroll the narration out of sight: the lit line only pulls a box the narration is not in
    // (in code view the narration is hidden, so the strip may scroll).
    const narration = document.querySelector("#narration");
    if (narration && scroller.contains(narration) && narration.offsetParent !== null) return;
    const head = pane.querySelector(".code-head");
    const stuck = head && scroller === pane && getComputedStyle(head).position === "sticky" ? head.offsetHeight : 0;
    const sr = scroller.getBoundingClientRect();
    const room = scroller.clientHeight - stuck;
    const fnTop = lit.closest(".code-fn").getBoundingClientRect().top - sr.top - stuck;
    const litTop = lit.getBoundingClientRect().top - sr.top - stuck;
    const litBottom = lit.getBoundingClientRect().bottom - sr.top - stuck;
    scroller.scrollTop += litBottom - fnTop <= room ? fnTop : litTop - room / 4;
  });
}

function renderSide() {
  const first = state.panes[0]?.data;
  if (!first) return;
  const held = state.panes.some((p) => p.data && p.data.held);
  // A waiting question always shows, even in diagram-only mode.
  document.body.classList.toggle("asking", held);
  const n = first.step;
  fill($("#step-head"),
    el("span", { class: "stepno" }, n === 0 ? "Start" : `Step ${n} of ${first.total}`),
    first.command ? el("code", { class: "command" }, first.command) : null);
  fill($("#narration"), narrationFor(state.panes, held));
  const done = n === first.total && !held;
  const nextBox = clear($("#next-walkthrough"));
  if (done) {
    nextBox.append(el("p", { class: "finished" }, "✓ End of this walkthrough."),
      boot.next ? el("a", { class: "button primary", href: `/play/${boot.next}` }, "Next walkthrough →")
                : el("a", { class: "button", href: "/tutorial" }, "Back to the tutorial"));
  }
}

function renderScenarioInfo() {
  const info = state.info;
  $("#walk-title").textContent = info.title;
  const meta = clear($("#walk-meta"));
  if (info.level) meta.append(el("span", { class: "chip" }, info.level));
  info.tags.forEach((t) => meta.append(el("span", { class: "chip tag" }, t)));
  const refs = clear($("#references"));
  if (info.references.length) {
    refs.append(el("details", {}, el("summary", {}, `References (${info.references.length})`),
      el("ul", {}, info.references.map((r) => el("li", {}, r.url
        ? html("a", { href: r.url, target: "_blank", rel: "noopener noreferrer" }, r.title)
        : html("span", {}, r.title))))));
  }
}

function renderEraControls() {
  const hadFocus = document.activeElement?.classList.contains("era-choice");
  const host = clear($("#era-controls"));
  const allowed = state.info ? state.info.eras : boot.eras;
  const left = state.eras[0];
  host.append(el("span", { class: "label", id: "era-label" }, "Kernel:"));
  const pickEra = (era) => switchEras(state.eras.length === 2 ? [era, state.eras[1] === era ? state.eras[0] : state.eras[1]] : [era]);
  const group = el("div", { class: "segmented", role: "radiogroup", "aria-labelledby": "era-label" },
    allowed.map((era) => el("button", {
      type: "button", role: "radio", class: "era-choice", "data-era": era, "aria-checked": String(era === left),
      onclick: () => pickEra(era),
    }, era)));
  host.append(group);
  radioArrows(group, (b) => pickEra(b.dataset.era));
  if (hadFocus) group.querySelector('[aria-checked="true"]')?.focus();
  const compare = el("select", { id: "compare-with", "aria-label": "compare with era" },
    el("option", { value: "" }, "— no comparison —"),
    allowed.filter((e) => e !== left).map((era) => el("option", { value: era, selected: state.eras[1] === era }, `compare with ${era}`)));
  compare.addEventListener("change", () => switchEras(compare.value ? [left, compare.value] : [left]));
  host.append(compare);
}

// -- the controls --------------------------------------------------------------------------------

// The buttons, the step count and the timeline's current step: a view of the store.
function renderControls(s) {
  $("#play").textContent = s.playing ? "❚❚ Pause" : "▶ Play";
  $("#play").setAttribute("aria-pressed", String(s.playing));
  $("#prev").disabled = s.step <= 0;
  $("#first").disabled = s.step <= 0;
  $("#next").disabled = s.step >= s.total;
  $("#last").disabled = s.step >= s.total;
  $("#step-count").textContent = `${s.step} / ${s.total}`;
  timeline.setStep(s.step);
}

function afterShow(step) {
  writePlayUrl(state.eras, step);
  markSeen(boot.name, step, state.info.steps.length);
  timeline.setSteps(state.info.steps, state.eras.map((e) => state.timelines[e]), (n) => stepHidden(n));
  store.set({ step });
  renderControls(store.state);  // the timeline's markers were drawn anew: mark the current one again
  document.body.dataset.step = String(step);
  fill($("#export"), "This step as an image: ", state.eras.map((era, i) => [i ? " · " : "",
    el("a", { href: `/export/${boot.name}.svg?era=${encodeURIComponent(era)}&step=${step}`, target: "_blank" }, `${era} SVG`), " ",
    el("a", { href: `/export/${boot.name}.png?era=${encodeURIComponent(era)}&step=${step}`, target: "_blank" }, "PNG")]));
  // For screen readers: what is on screen now, in words.
  const first = state.panes[0]?.data;
  if (first) {
    const results = state.panes.map((p) => (p.data.held ? `${p.era}: question` : `${p.era}: ${p.data.result ?? "start"}`));
    $("#announce").textContent = `Step ${step} of ${first.total}${first.command ? `: ${first.command}` : ""}. ${results.join(", ")}. ${stepAlt(state.panes)}`;
  }
  room.onShow?.(step);
  timelineKey($("#timeline-key"), state.eras.map((e) => state.timelines[e]));
}

$("#first").addEventListener("click", () => player.first());
$("#prev").addEventListener("click", () => player.prev());
$("#play").addEventListener("click", () => player.toggle());
$("#next").addEventListener("click", () => player.next());
$("#last").addEventListener("click", () => player.last());
$("#speed").addEventListener("change", (e) => player.setSpeed(Number(e.target.value)));

playerKeys({
  next: () => player.next(), prev: () => player.prev(), first: () => player.first(), last: () => player.last(),
  toggle: () => player.toggle(), projector: () => toggleProjector(), diagramOnly: () => focus.toggle(),
  zoom: () => (projector.on || projector.overview ? projector.toggleOverview() : follow.toggle()),
  code: () => codeView.toggle(),
});

// -- inspecting and picking ----------------------------------------------------------------------

function selectedPaneIndex() {
  return state.selected ? state.selected.pane : 0;
}

function onPick(index, id, kind) {
  const pane = state.panes[index];
  if (pane.data && pane.data.held && pane.data.ask && pane.data.ask.kind === "pick") {
    if (kind === "page") answer(index, id);
    return;
  }
  selectObject(index, id);
  room.onSelect?.(state.selected);
}

function selectObject(index, id) {
  const pane = state.panes[index];
  if (!pane || !pane.data) return;
  store.set({ selected: { pane: index, id } });
  inspector.update(pane.data.objects, changesOf(pane.data));
  inspector.select(id);
}

function markSelection(id, entry) {
  state.panes.forEach((p, i) => {
    p.diagram.mark("selected", i === selectedPaneIndex() ? [id] : []);
    const related = entry && entry.rmap ? entry.rmap.mappings.map((m) => m.pte) : [];
    p.diagram.mark("related", i === selectedPaneIndex() ? related : []);
  });
}

function restoreMarks(index) {
  if (state.selected && state.selected.pane === index) {
    state.panes[index].diagram.mark("selected", [state.selected.id]);
  }
}

if (boot.lab) $("#lab-slot").append(labButton(transport, () => store.state.step));

// -- start, and resume after a reconnect -----------------------------------------------------------

// In a room, room-play.js opens and resumes (the presenter's state, or the URL's for the presenter).
if (!room.active) {
  transport.onConnect(() => {
    if (state.opened) {
      openAt(state.eras, store.state.step);
    } else {
      const link = readPlayUrl();
      openAt(link.eras, link.step);
    }
  });
}

export const page = { boot, transport, player, store, state, openAt, load: loadStep, show: showStep, selectObject };
