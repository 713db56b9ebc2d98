// The page's state in one small store: the views subscribe to it, and only set() changes it.
// The player page keeps here what it shows (the walkthrough, the era or eras, their timelines,
// the step, the selection) and what the controls say (playing, speed): the player, the controls,
// the timeline, the URL and a classroom room read the step from here, nobody keeps a copy.
export class Store {
  constructor(initial = {}) {
    this._state = Object.freeze({ ...initial });
    this._subs = new Set();
  }

  // The current state (frozen: change it with set()).
  get state() {
    return this._state;
  }

  // Change some keys; each subscriber whose keys changed hears (state, changed keys) once.
  set(patch) {
    const changed = Object.keys(patch).filter((k) => !Object.is(this._state[k], patch[k]));
    if (!changed.length) return this._state;
    this._state = Object.freeze({ ...this._state, ...patch });
    for (const sub of [...this._subs]) {
      if (!sub.keys || changed.some((k) => sub.keys.includes(k))) sub.fn(this._state, changed);
    }
    return this._state;
  }

  // fn(state, changed) after every change of one of `keys` (all keys when omitted); returns the
  // function that unsubscribes.
  subscribe(fn, keys = null) {
    const sub = { fn, keys };
    this._subs.add(sub);
    return () => this._subs.delete(sub);
  }
}
