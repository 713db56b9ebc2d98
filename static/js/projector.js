// The projector view of the player: in projector mode (and in every comparison) each pane draws the focus view
// (focus.js) at a text size set by the screen (1/30 of its height in one era, 1/40 per pane in a
// comparison), two eras share one focus layout, and the comparison picks side by side or stacked,
// whichever shows more.  Z shows the whole layout instead (the overview), Z again the focus.
import { FocusLayout, FONT } from "./focus.js";

const ONE_ERA = 29.5;   // text = screen height / 30 (the back row of a lecture hall reads that), a little over
const TWO_ERAS = 39;
const PHONE_TEXT = 15;  // px: the focus view on a phone (a page that asks for it), read at arm's length
const PHONE = "(max-width: 640px)";

export function isProjector() {
  return document.body.classList.contains("projector");
}

// The text size of the focus view in CSS px, for this screen and this many panes.
export function focusTextPx(panes) {
  return window.innerHeight / (panes === 2 ? TWO_ERAS : ONE_ERA);
}

export class Projector {
  // getPanes(): the page's panes ({era, root, diagram, data}); extraIds(pane): ids a pane must show;
  // phone: draw the focus view on a phone too (at PHONE_TEXT), where the whole layout is a sliver.
  constructor({ getPanes, extraIds, phone = false }) {
    this.getPanes = getPanes;
    this.extraIds = extraIds || (() => []);
    this.phone = phone;
    this.layout = new FocusLayout();
    this.overview = false;
    this.pending = null;
    this.last = null;     // what the last draw did: {shown, folded, arrangement}
    document.addEventListener("cowviz:projector", () => this.redraw());
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.redraw(), 120);
    });
    document.addEventListener("fullscreenchange", () => setTimeout(() => this.redraw(), 60));
    // The text size is exact only if the canvas is the drawing's size: when the pane changes size
    // (the words beside it grow, a question appears), lay out again.
    this.sizes = new Map();   // svg -> "WxH" it was laid out for
    this.observer = new ResizeObserver((entries) => {
      const moved = entries.some((e) => this.sizes.has(e.target)
        && this.sizes.get(e.target) !== `${Math.round(e.contentRect.width)}x${Math.round(e.contentRect.height)}`);
      if (moved && this.on) {
        clearTimeout(timer);
        timer = setTimeout(() => this.redraw(), 30);
      }
    });
  }

  // The focus view draws the projector mode, and every comparison (two eras share its layout).
  get on() {
    return (isProjector() || this.getPanes().length === 2 || this.onPhone) && !this.overview;
  }

  get onPhone() {
    return this.phone && !isProjector() && window.matchMedia(PHONE).matches;
  }

  // A new set of panes (another era, another walkthrough): nothing to keep from before.
  reset() {
    this.layout.reset();
  }

  toggleOverview() {
    this.overview = !this.overview;
    document.body.classList.toggle("overview", this.overview);
    this.layout.reset();
    this.redraw();
  }

  // Draw every pane (batched: the panes of one reply are drawn together, after all have arrived).
  draw() {
    if (!this.pending) {
      this.pending = Promise.resolve().then(() => {
        this.pending = null;
        return this._draw();
      });
    }
    return this.pending;
  }

  redraw() {
    const panes = this.getPanes();
    if (!panes.length || !panes.every((p) => p.data)) return Promise.resolve();
    if (!this.on) {
      document.body.classList.remove("focus-view");
      return Promise.all(panes.map((p) => p.diagram.show(p.data.frame)));
    }
    return this.draw();
  }

  _draw() {
    const panes = this.getPanes();
    if (!panes.length || !panes.every((p) => p.data)) return Promise.resolve();
    document.body.classList.add("focus-view");
    panes.forEach((p) => {
      const r = p.diagram.root.getBoundingClientRect();
      this.sizes.set(p.diagram.root, `${Math.round(r.width)}x${Math.round(r.height)}`);
      this.observer.observe(p.diagram.root);
    });
    const frames = panes.map((p) => p.data.frame);
    if (frames.some((f) => !f)) return Promise.all(panes.map((p) => p.diagram.show(p.data.frame)));
    const extra = panes.flatMap((p) => this.extraIds(p));
    const k = (this.onPhone ? PHONE_TEXT : focusTextPx(panes.length)) / FONT;
    let result;
    if (panes.length === 2) {
      // Side by side or stacked: lay out both (without remembering), keep the one that folds less.
      const options = ["cols", "rows"].map((how) => {
        const [w, h] = this._canvas(how, k);
        const trial = this.layout.clone();
        return { how, w, h, r: trial.layout(frames, w, h, { extra }) };
      });
      const current = document.body.classList.contains("compare-rows") ? "rows" : "cols";
      options.sort((a, b) => a.r.folded - b.r.folded || (a.how === current ? -1 : 1));
      const best = options[0];
      document.body.classList.toggle("compare-cols", best.how === "cols");
      document.body.classList.toggle("compare-rows", best.how === "rows");
      // The real size of the panes now that they are arranged (the estimate may be a few px off).
      const [w, h] = this._canvas(null, k);
      result = this.layout.layout(frames, w, h, { extra });
      this.last = { shown: result.shown, folded: result.folded, arrangement: best.how };
    } else {
      const [w, h] = this._canvas(null, k);
      result = this.layout.layout(frames, w, h, { extra });
      this.last = { shown: result.shown, folded: result.folded, arrangement: "one" };
    }
    document.body.dataset.focusFolded = String(result.folded);
    const drawn = panes.map((p, i) => {
      const done = p.diagram.show(result.frames[i]);
      p.diagram.mark("differs", result.differs[i]);
      return done;
    });
    return Promise.all(drawn);
  }

  // The canvas of one pane in world units (16 units of text), for an arrangement of two panes.
  _canvas(how, k) {
    const panes = this.getPanes();
    const svgs = panes.map((p) => p.diagram.root.getBoundingClientRect());
    let w = Math.min(...svgs.map((r) => r.width));
    let h = Math.min(...svgs.map((r) => r.height));
    if (how) {
      const stage = panes[0].root.parentElement.getBoundingClientRect();
      const chrome = panes[0].root.getBoundingClientRect().height - svgs[0].height;
      const gap = 10;
      if (how === "cols") {
        w = (stage.width - gap) / 2 - 16;
        h = stage.height - chrome;
      } else {
        w = stage.width - 16;
        h = (stage.height - gap) / 2 - chrome;
      }
    }
    return [Math.max(50, w / k), Math.max(50, h / k)];
  }
}
