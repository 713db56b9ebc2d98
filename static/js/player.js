// The player: where we are in a walkthrough, play/pause, speed and a latest-wins request queue.
// It knows nothing of kernels or drawing: load(step) fetches and shows a step and resolves once
// the step's animation has ended; held() says whether a question on screen holds the story.
import * as anim from "./animations.js";

const DWELL_MS = 2200; // time a step stays on screen while playing, at 1x

export class Player {
  constructor({ load, onChange, onBlocked, held }) {
    this.load = load;
    this.onBlocked = onBlocked;
    this.isHeld = held || (() => false);
    this.onChange = onChange || (() => {});
    this.step = 0;
    this.total = 0;
    this.target = null;
    this.busy = false;
    this.playing = false;
    this.speed = 1;
    this.timer = null;
  }

  setTotal(total) {
    this.total = total;
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
      if (result && result.ok !== false) this.step = n;
      this.onChange(this);
    }
    this.busy = false;
    if (this.playing) this._schedule();
  }

  // The step now on screen was revealed (answered): playing may go on.
  revealed() {
    this.onChange(this);
    if (this.playing) this._schedule();
  }

  play() {
    if (this.step >= this.total) this.goto(0);
    this.playing = true;
    this.onChange(this);
    if (!this.busy) this._schedule();
  }

  pause() {
    this.playing = false;
    clearTimeout(this.timer);
    this.onChange(this);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(x) {
    this.speed = x;
    anim.setSpeed(x);
    this.onChange(this);
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
