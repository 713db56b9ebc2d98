// The player: play/pause, speed and a latest-wins request queue over a walkthrough's steps.
// It knows nothing of kernels or drawing: load(step) fetches and shows a step and resolves once
// the step's animation has ended; held() says whether a question on screen holds the story.
// Where we are (step, total) and what the controls say (playing, speed) live in the page's store
// (store.js): the player reads them there and changes them only through it; the views subscribe.
import * as anim from "./animations.js";

const DWELL_MS = 2200; // time a step stays on screen while playing, at 1x

export class Player {
  constructor({ store, load, onBlocked, held }) {
    this.store = store;
    this.load = load;
    this.onBlocked = onBlocked;
    this.isHeld = held || (() => false);
    this.target = null;
    this.busy = false;
    this.timer = null;
  }

  get step() { return this.store.state.step; }
  get total() { return this.store.state.total; }
  get playing() { return this.store.state.playing; }
  get speed() { return this.store.state.speed; }

  setTotal(total) {
    this.store.set({ total });
  }

  // Ask for a step; while one is loading only the latest request is kept (scrubbing skips).
  goto(step) {
    const n = Math.max(0, Math.min(this.total, step));
    this.target = n;
    if (!this.busy) this._pump();
  }

  // A waiting question holds the story: Next asks for an answer (or a skip) first.
  next() {
    if (this.target === null && this.isHeld()) {
      this.onBlocked?.();
      return;
    }
    this.goto((this.target ?? this.step) + 1);
  }
  prev() { this.goto((this.target ?? this.step) - 1); }
  first() { this.goto(0); }
  last() { this.goto(this.total); }

  async _pump() {
    this.busy = true;
    while (this.target !== null) {
      const n = this.target;
      this.target = null;
      const result = await this.load(n);
      if (result && result.ok !== false) this.store.set({ step: n });
    }
    this.busy = false;
    if (this.playing) this._schedule();
  }

  // The step now on screen was revealed (answered): playing may go on.
  revealed() {
    if (this.playing) this._schedule();
  }

  play() {
    if (this.step >= this.total) this.goto(0);
    this.store.set({ playing: true });
    if (!this.busy) this._schedule();
  }

  pause() {
    clearTimeout(this.timer);
    this.store.set({ playing: false });
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(x) {
    anim.setSpeed(x);
    this.store.set({ speed: x });
  }

  _schedule() {
    clearTimeout(this.timer);
    // A question stops the show: the learner answers before the story goes on.
    if (this.isHeld()) return;
    if (this.step >= this.total) {
      this.pause();
      return;
    }
    this.timer = setTimeout(() => {
      if (this.playing && !this.busy) this.goto(this.step + 1);
    }, DWELL_MS / this.speed);
  }
}
