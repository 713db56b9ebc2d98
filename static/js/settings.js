// Page chrome shared by every page: projector mode, the connection badge, the keyboard help.
const PROJECTOR_KEY = "cowviz.projector";

function setProjector(on) {
  // On <html> too: rem sizes follow the root's font size.
  document.documentElement.classList.toggle("projector", on);
  document.body.classList.toggle("projector", on);
  const button = document.getElementById("projector-toggle");
  if (button) {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Projector mode: on" : "Projector mode: off";
  }
  try {
    localStorage.setItem(PROJECTOR_KEY, on ? "1" : "0");
  } catch {
    // Not saved; the toggle still works for this page.
  }
  // The URL says it too, so a copied link opens the projector view.
  const q = new URLSearchParams(window.location.search);
  if ((q.get("projector") === "1") !== on) {
    if (on) q.set("projector", "1");
    else q.delete("projector");
    const search = q.toString().replace(/%2C/g, ",");
    window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
  }
  document.dispatchEvent(new CustomEvent("cowviz:projector", { detail: on }));
}

export function toggleProjector() {
  setProjector(!document.body.classList.contains("projector"));
}

function stored(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v === "1";
  } catch {
    return fallback;
  }
}

function store(key, on) {
  try {
    localStorage.setItem(key, on ? "1" : "0");
  } catch {
    // Only for this page, then.
  }
}

// A remembered on/off view setting bound to a toggle button; apply(on) does the work.
export function viewToggle(id, key, fallback, words, apply) {
  const button = document.getElementById(id);
  let on = stored(key, fallback);
  const set = (value) => {
    on = value;
    store(key, on);
    if (button) {
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? words[0] : words[1];
    }
    apply(on);
  };
  button?.addEventListener("click", () => set(!on));
  set(on);
  return { toggle: () => set(!on), get on() { return on; } };
}

// The diagram key, if the page has one: drawn once, open or closed as the learner last left it.
function initKey() {
  const details = document.getElementById("key");
  if (!details) return;
  import("./renderer.js").then(({ keySvg }) => details.append(keySvg()));
  details.open = stored("cowviz.key", true);
  details.addEventListener("toggle", () => store("cowviz.key", details.open));
}

export function initChrome(transport) {
  initKey();
  let on = false;
  try {
    on = localStorage.getItem(PROJECTOR_KEY) === "1";
  } catch {
    on = false;
  }
  // ?projector=1 (or 0) on any URL turns it on (or off), and is remembered like the toggle.
  const asked = new URLSearchParams(window.location.search).get("projector");
  if (asked === "1" || asked === "0") on = asked === "1";
  setProjector(on);
  document.getElementById("projector-toggle")?.addEventListener("click", toggleProjector);
  const help = document.getElementById("help");
  document.getElementById("help-toggle")?.addEventListener("click", () => { help.hidden = !help.hidden; });
  help?.querySelector(".close")?.addEventListener("click", () => { help.hidden = true; });
  const badge = document.getElementById("conn");
  if (transport && badge) {
    const words = { connected: "● connected", disconnected: "○ disconnected", reconnecting: "◌ reconnecting…",
                    full: "○ server full" };
    transport.onStatus((state) => {
      badge.textContent = words[state] || state;
      badge.dataset.state = state;
    });
  }
}

// Keys that belong to the page, not to a field the user is typing in.
export function isTyping(event) {
  const t = event.target;
  if (!(t instanceof Element)) return false;
  return Boolean(t.closest("input, textarea, select, [contenteditable]"));
}
