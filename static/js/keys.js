// The player's keys, as a presenter uses them: a remote sends Page Down / Page Up; B or "."
// blanks the screen; F goes full screen (Fullscreen API); D shows the diagram only; ? opens the
// help and Escape closes it (and un-blanks).  Arrow keys inside the era buttons move between eras.
import { isTyping } from "./settings.js";

// handlers: {next, prev, first, last, toggle, projector, diagramOnly, zoom}
export function playerKeys(handlers) {
  const help = document.getElementById("help");
  const blank = blankScreen();
  const keys = {
    ArrowRight: handlers.next, PageDown: handlers.next, ArrowLeft: handlers.prev, PageUp: handlers.prev,
    Home: handlers.first, End: handlers.last, " ": handlers.toggle,
    p: handlers.projector, P: handlers.projector, d: handlers.diagramOnly, D: handlers.diagramOnly,
    z: handlers.zoom, Z: handlers.zoom, c: handlers.code, C: handlers.code, f: toggleFullscreen, F: toggleFullscreen,
    b: blank.toggle, B: blank.toggle, ".": blank.toggle,
    "?": () => openHelp(help), Escape: () => { blank.off(); closeHelp(help); },
  };
  document.addEventListener("keydown", (e) => {
    if (isTyping(e) || e.altKey || e.ctrlKey || e.metaKey) return;
    const onControl = e.target instanceof Element && e.target.closest("button, a, summary, [role=radio]");
    if ((e.key === " " || e.key === "Enter") && onControl) return; // Space and Enter press the focused control
    if (e.target instanceof Element && e.target.closest("[role=radiogroup]") && e.key.startsWith("Arrow")) return;
    const fn = keys[e.key];
    if (!fn) return;
    // While blank, only un-blanking keys act: the room sees nothing move behind the black screen.
    if (blank.on && ![".", "b", "B", "Escape"].includes(e.key)) return;
    e.preventDefault();
    fn();
  });
  return { blank };
}

// A black screen over everything (the lecturer talks; the room looks at them).
function blankScreen() {
  let cover = null;
  const state = {
    on: false,
    toggle: () => (state.on ? state.off() : state.show()),
    show: () => {
      cover = document.createElement("div");
      cover.className = "blank-screen";
      cover.setAttribute("role", "status");
      const msg = document.createElement("span");
      msg.className = "sr-only";
      msg.textContent = "Screen blanked; press B, full stop or Escape to show it again.";
      cover.append(msg);
      document.body.append(cover);
      document.body.classList.add("blanked");
      state.on = true;
    },
    off: () => {
      cover?.remove();
      cover = null;
      document.body.classList.remove("blanked");
      state.on = false;
    },
  };
  return state;
}

export function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen?.().catch(() => undefined);
  } else {
    document.documentElement.requestFullscreen?.().catch(() => undefined);
  }
}

let helpOpener = null;

export function openHelp(help) {
  if (!help) return;
  if (!help.hidden) return closeHelp(help);
  helpOpener = document.activeElement;
  help.hidden = false;
  help.querySelector(".close")?.focus();
}

export function closeHelp(help) {
  if (!help || help.hidden) return;
  help.hidden = true;
  if (helpOpener && document.contains(helpOpener)) helpOpener.focus();
  helpOpener = null;
}

// Arrow keys inside a radiogroup of buttons: move the choice (and the focus) to the next or
// previous one, wrapping; pick(button) acts on it.  One button of the group is in the tab order.
export function radioArrows(group, pick) {
  const radios = () => [...group.querySelectorAll("[role=radio]")];
  const sync = () => {
    const all = radios();
    const checked = all.find((b) => b.getAttribute("aria-checked") === "true") || all[0];
    all.forEach((b) => b.setAttribute("tabindex", b === checked ? "0" : "-1"));
  };
  sync();
  group.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) return;
    const all = radios();
    const at = all.indexOf(document.activeElement);
    if (at < 0) return;
    e.preventDefault();
    const next = all[(at + step + all.length) % all.length];
    next.focus();
    pick(next);
  });
}
