// A follower's player answers its own open/step/era requests from the walkthrough's packs
// (docs/web.md "Packs"): every step's panes of one era in one file, fetched once over HTTP and
// cached by its content hash.  So a step the presenter shows reaches every follower as one small
// message (the room's state), and each follower draws it from what it already has: no request of
// its own, nothing made per follower on the server.  Anything a pack cannot answer (it could not be
// fetched, a bad era or step) goes to the server as the player's own `open` would.

export class PackSource {
  constructor(transport, name) {
    this.transport = transport;
    this.name = name;
    this.urls = {}; // era -> the pack's URL with its content hash (from the room's messages)
    this.packs = new Map(); // URL -> Promise of the pack
    this.eras = null; // the eras shown, as a session keeps them
  }

  // The room names the packs of the eras it shows: fetch them now, before the step needs them.
  offer(urls) {
    Object.assign(this.urls, urls || {});
    Object.keys(urls || {}).forEach((era) => this.pack(era).catch(() => null));
  }

  pack(era) {
    const url = this.urls[era] || `/pack/${encodeURIComponent(era)}/${encodeURI(this.name)}.json`;
    let pack = this.packs.get(url);
    if (!pack) {
      pack = fetch(url, { credentials: "same-origin" }).then((r) => {
        if (!r.ok) throw new Error(`pack ${url}: HTTP ${r.status}`);
        return r.json();
      });
      pack.catch(() => this.packs.delete(url)); // a failed fetch is tried again next time
      this.packs.set(url, pack);
    }
    return pack;
  }

  // The reply the server would give to `event` (open, step or era), made from the packs.
  async request(event, data) {
    const eras = event === "step" ? this.eras : Array.isArray(data.eras) ? data.eras : null;
    try {
      const step = Number(data.step ?? 0);
      if (!eras || eras.length < 1 || eras.length > 2 || eras[0] === eras[1]) throw new Error("eras");
      const packs = await Promise.all(eras.map((era) => this.pack(era)));
      if (!Number.isInteger(step) || step < 0 || step >= packs[0].steps.length) throw new Error("step");
      const reveal = data.reveal;
      const panes = packs.map((p, i) => {
        const s = p.steps[step];
        const revealed = reveal === true || (Array.isArray(reveal) && reveal.includes(eras[i]));
        return s.held && !revealed ? s.held : s.shown;
      });
      this.eras = eras.slice();
      return { ok: true, mode: "play", scenario: packs[0].scenario, eras: this.eras, step,
        timelines: Object.fromEntries(eras.map((era, i) => [era, packs[i].timeline])), panes };
    } catch {
      // The server's own answer (and its error message, if the request is wrong).
      const reply = await this.transport.request("open", { name: this.name, eras: eras || undefined,
        step: data.step ?? 0, reveal: data.reveal });
      if (reply.ok) this.eras = reply.eras;
      return reply;
    }
  }
}
