// The socket: one Socket.IO connection to the /cowviz namespace, requests with acknowledgements.
// Every reply has one shape: {ok: true, ...} or {ok: false, error}.  See docs/web.md.
import { io } from "/vendor/socket.io.esm.min.js";
import { showError } from "./dom.js";

const TIMEOUT_MS = 15000;

export class Transport {
  constructor() {
    this.socket = io("/cowviz", { transports: ["websocket", "polling"] });
    this.connectHandlers = [];
    this.statusHandlers = [];
    this.socket.on("connect", () => {
      this._status("connected");
      for (const fn of this.connectHandlers) fn();
    });
    this.socket.on("disconnect", () => this._status("disconnected"));
    this.socket.io.on("reconnect_attempt", () => this._status("reconnecting"));
    // A refusal (the server is full) ends the attempts: requests then say why at once.
    this.socket.on("connect_error", (err) => {
      if (this.socket.active) return;
      this.refused = `the server refused the connection: ${err.message}`;
      this._status("full");
      showError(`${this.refused}.`);
    });
  }

  // fn runs on the first connect and on every reconnect: the page re-sends its state to resume.
  onConnect(fn) {
    this.connectHandlers.push(fn);
    if (this.socket.connected) fn();
  }

  onStatus(fn) {
    this.statusHandlers.push(fn);
  }

  _status(state) {
    document.documentElement.dataset.connection = state;
    for (const fn of this.statusHandlers) fn(state);
  }

  // Resolves with the server's reply; a lost or late reply becomes {ok: false, error}.
  // Requests go out one at a time, in the order they were made: the server handles each in its
  // own thread, so two in flight at once could be applied in either order.
  request(event, data = {}) {
    const run = () => this._send(event, data);
    const result = (this.queue || Promise.resolve()).then(run, run);
    this.queue = result;
    return result;
  }

  // Not connected yet (the page is still loading, or the server restarts): wait for the
  // connection a while rather than fail at once.
  _connected() {
    if (this.socket.connected) return Promise.resolve(true);
    if (this.refused) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (ok) => {
        clearTimeout(timer);
        this.socket.off("connect", done);
        this.socket.off("connect_error", refused);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), TIMEOUT_MS);
      const done = () => finish(true);
      const refused = () => { if (!this.socket.active) finish(false); };
      this.socket.once("connect", done);
      this.socket.on("connect_error", refused);
    });
  }

  async _send(event, data) {
    if (!(await this._connected())) {
      return { ok: false, error: this.refused || "not connected to the cowviz server (is it running?)" };
    }
    return new Promise((resolve) => {
      this.socket.timeout(TIMEOUT_MS).emit(event, data, (err, reply) => {
        if (err) resolve({ ok: false, error: `the server did not answer '${event}' in time` });
        else resolve(reply);
      });
    });
  }
}
