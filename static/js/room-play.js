// A classroom room on the player page: the presenter drives, followers follow (docs/classroom.md).
// The player itself is play-page.js; this module only opens it, watches it and steers it.
import { $, clear, el, fill, html } from "./dom.js";
import { page, room } from "./play-page.js";
import { readPlayUrl } from "./urlstate.js";
import { isTyping, toggleProjector } from "./settings.js";
import { wording } from "./narration.js";
import { choiceText, download, followerId, presenterSecret, roomBoot, roomStatus, setFollowers, tallyChart } from "./room-common.js";
import { PackSource } from "./room-packs.js";

const { transport, player, state } = page;
const socket = transport.socket;
const code = roomBoot.code;
let current = null; // the room as the server last sent it (public part)

// The questions a vote is on, one per era (a server before comparison votes sent only the first).
const partsOf = (poll) => poll.parts || [poll];
const revealedKeys = () => (current && current.view && current.view.revealed) || [];
room.revealed = (era, step) => revealedKeys().includes(`${step}:${era}`);

function onKey(key, fn) {
  document.addEventListener("keydown", (e) => {
    if (isTyping(e) || e.altKey || e.ctrlKey || e.metaKey || e.key.toLowerCase() !== key) return;
    e.preventDefault();
    fn();
  });
}

// The vote and the notes sit with the question, in the side panel.
const talk = document.querySelector(".side-talk");
// (The presenter's vote stays under the room bar, in view on a projector.)
["#room-notes", "#room-vote"].forEach((sel, i) => {
  const node = $(sel);
  if (node && talk) (i === 0 ? talk.prepend(node) : $("#asks").after(node));
});

// ?projector=1 (or 0), on the presenter's page or a follower's (e.g. the window on the projector).
const projector = new URLSearchParams(window.location.search).get("projector");
if ((projector === "1") !== document.body.classList.contains("projector") && (projector === "1" || projector === "0")) {
  toggleProjector();
}

if (roomBoot.role === "presenter") presenter();
else follower();

// -- the presenter -------------------------------------------------------------------------------

function presenter() {
  const secret = presenterSecret(code, roomBoot.secret);
  document.body.classList.add("room-presenter");
  let notes = {};
  let tallies = {}; // question key -> {choice: votes}
  let claimed = false;

  // The page's URL names the room: a reload reopens it (with the key this tab kept) instead of making another.
  const q = new URLSearchParams(window.location.search);
  if (q.get("room") !== code) {
    q.set("room", code);
    window.history.replaceState(null, "", `${window.location.pathname}?${q.toString().replace(/%2C/g, ",")}`);
  }

  function sendView(extra = {}) {
    if (!claimed) return;
    transport.request("room_view", { selected: state.selected, ...extra }).then((reply) => {
      if (reply.ok) current = reply.room;
      else roomStatus(reply.error);
      renderPoll();
    });
  }

  room.onShow = (step) => {
    renderNotes(step);
    sendView();
  };
  room.onSelect = () => sendView();
  room.onReveal = (era, step) => sendView({ revealed: [`${step}:${era}`] });

  transport.onConnect(async () => {
    const reply = await transport.request("room_claim", { code, secret });
    if (!reply.ok) {
      claimed = false;
      roomStatus(`${reply.error}`);
      document.body.dataset.room = "refused";
    } else {
      claimed = true;
      current = reply.room;
      notes = reply.notes || {};
      tallies = reply.tallies || {};
      setFollowers(reply.followers);
      roomStatus(null);
      document.body.dataset.room = "presenting";
    }
    // First connect: open what the URL says; a reconnect: show the same again (and tell the room).
    if (state.opened) await page.openAt(state.eras, player.step);
    else {
      const link = readPlayUrl();
      await page.openAt(link.eras, link.step);
    }
  });

  socket.on("room_followers", ({ count }) => setFollowers(count));
  socket.on("room_tally", (msg) => {
    if (current && current.poll && partsOf(current.poll).some((q) => q.key === msg.key)) {
      tallies[msg.key] = msg.tally;
      renderPoll();
    }
  });

  function renderNotes(step) {
    const box = $("#room-notes");
    const text = notes[String(step)];
    box.dataset.step = String(step);
    if (text) fill(box, el("h3", {}, "Notes"), html("div", { class: "notes-text" }, text));
    else clear(box);
    box.hidden = !text || $("#room-notes-toggle").getAttribute("aria-pressed") !== "true";
  }

  // Poll controls: on a question step, open the vote; while it is open, watch it and reveal.
  function renderPoll() {
    const controls = clear($("#room-poll-controls"));
    const panel = $("#room-poll");
    const first = state.panes[0]?.data;
    if (!first || !current) {
      panel.hidden = true;
      return;
    }
    const poll = current.poll && current.poll.step === first.step && current.view.name === page.boot.name ? current.poll : null;
    // The vote is on the question under every era shown that still holds it (a comparison: both at once).
    const heldEras = state.panes.filter((p) => p.data && p.data.held && p.data.ask).map((p) => p.era);
    const voted = poll ? partsOf(poll).map((q) => q.era) : [];
    if (heldEras.length && !current.ended && (!poll || (poll.status === "revealed" && heldEras.some((e) => !voted.includes(e))))) {
      controls.append(el("button", { type: "button", id: "room-poll-open", class: "primary",
        onclick: () => pollAction("open") }, "Open the vote"));
    }
    if (poll && poll.status === "open") {
      controls.append(el("button", { type: "button", id: "room-poll-reveal", class: "primary", onclick: () => pollAction("reveal") }, "Reveal the answer"));
    } else if (poll && poll.status === "closed" && !current.ended) {
      controls.append(el("button", { type: "button", id: "room-poll-reveal", class: "primary", onclick: () => pollAction("reveal") }, "Reveal the answer"));
    }
    panel.hidden = !poll;
    if (poll) {
      panel.dataset.status = poll.status;
      const parts = partsOf(poll);
      fill(panel, el("h3", {}, poll.status === "open" ? "Vote open" : poll.status === "revealed" ? "Vote: revealed" : "Vote closed",
        parts.map((q) => el("span", { class: "era-badge small" }, q.era))),
      html("p", { class: "question" }, poll.question),
      el("div", { class: "tally-parts" }, parts.map((q) => el("div", { class: "tally-part", "data-era": q.era },
        parts.length > 1 ? el("h4", {}, el("span", { class: "era-badge small" }, q.era)) : null,
        tallyChart(q, tallies[q.key] || {}, { right: poll.status === "revealed" ? q.right : null, answerText: choiceText })))));
    }
  }

  async function pollAction(action, era) {
    const reply = await transport.request("room_poll", { action, era });
    if (!reply.ok) {
      roomStatus(reply.error);
      return;
    }
    roomStatus(null);
    current = reply.room;
    tallies = reply.tallies || {};
    renderPoll();
    // Revealed for the room: show the outcome here too (the step is fetched again, now revealed).
    if (action === "reveal") player.goto(player.step);
  }

  const qr = $("#room-qr");
  const toggleQr = () => {
    qr.hidden = !qr.hidden;
    $("#room-qr-toggle").setAttribute("aria-expanded", String(!qr.hidden));
  };
  $("#room-qr-toggle").addEventListener("click", toggleQr);
  $("#room-qr-close").addEventListener("click", toggleQr);
  onKey("q", toggleQr);
  const toggleNotes = () => {
    const b = $("#room-notes-toggle");
    const on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", String(on));
    renderNotes(player.step);
  };
  $("#room-notes-toggle").addEventListener("click", toggleNotes);
  onKey("n", toggleNotes);

  $("#room-results").addEventListener("click", async () => {
    const reply = await transport.request("room_results", { code, secret });
    if (!reply.ok) roomStatus(reply.error);
    else download(reply.filename, reply.csv, "text/csv");
  });
  $("#room-end").addEventListener("click", async () => {
    if (!window.confirm("End the room? Followers are told, and nobody can join it any more.")) return;
    const reply = await transport.request("room_end", {});
    if (!reply.ok) {
      roomStatus(reply.error);
      return;
    }
    current = reply.room;
    claimed = false;
    document.body.dataset.room = "ended";
    roomStatus("The room has ended. The results stay downloadable for a while (↓ Results).", "info");
    $("#room-end").disabled = true;
    renderPoll();
  });
}

// -- a follower ----------------------------------------------------------------------------------

const ENDED = "The presenter ended the room. You can go on exploring.";

function follower() {
  document.body.classList.add("room-follower");
  wording.held = "outcome hidden until the presenter reveals it";
  let following = true;
  let busy = false;
  let again = false;
  let shown = null; // {eras, step, revealed, selected} last applied from the room
  const myVotes = {}; // question key -> this follower's choice
  let closed = null; // {reason, message}: the room has ended or expired (room_closed)
  // This page's steps come from the walkthrough's packs, not from requests of its own (room-packs.js).
  const packs = new PackSource(transport, page.boot.name);
  room.local = (event, data) => packs.request(event, data);

  room.onAnswer = (index, choice) => {
    vote(index, choice);
    return true;
  };
  room.onShow = (step) => {
    const v = current && current.view;
    if (!v || busy) return;
    // Stepping or switching era here means: look around on your own.
    if (following && (step !== v.step || !sameEras(state.eras, v.eras))) breakAway();
    renderState();
  };

  function sameEras(a, b) {
    return Array.isArray(a) && Array.isArray(b) && a.join(",") === b.join(",");
  }

  function breakAway() {
    following = false;
    renderState();
  }

  function resync() {
    following = true;
    shown = null;
    renderState();
    drive();
  }

  // Show what the room shows; if the room moved on meanwhile, go again (latest wins).
  async function drive() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const v = current && current.view;
        if (!following || !v || v.mode !== "play") break;
        const eras = v.eras || null;
        const step = v.step ?? 0;
        const revealed = revealedKeys().filter((k) => k.startsWith(`${step}:`)).join(",");
        if (!state.opened || !eras || !sameEras(state.eras, eras)) {
          await page.openAt(eras, step);
        } else if (!shown || shown.step !== step || shown.revealed !== revealed || player.step !== step) {
          await page.load(step);
        }
        shown = { step, revealed };
        const sel = v.selected;
        if (sel && (!state.selected || state.selected.id !== sel.id || state.selected.pane !== sel.pane)) {
          page.selectObject(sel.pane, sel.id);
        }
      } while (again);
    } finally {
      busy = false;
    }
    document.body.dataset.synced = String(current ? current.seq : 0);
    renderState();
  }

  function renderState() {
    const box = $("#room-follow-state");
    const resyncButton = $("#room-resync");
    const v = current && current.view;
    document.body.dataset.following = String(following);
    let text;
    if (closed) text = closed.message;
    else if (!current) text = "joining…";
    else if (current.ended) text = ENDED;
    else if (!v || !v.eras) text = "Waiting for the presenter to start.";
    else if (!following) text = `You are exploring on your own. The presenter is on step ${v.step}.`;
    else if (!current.presenter) text = `The presenter is away (reconnecting). Step ${v.step}.`;
    else text = `Following the presenter: step ${v.step}.`;
    fill(box, text);
    resyncButton.hidden = following || !current || current.ended || Boolean(closed);
    document.body.dataset.closed = closed ? closed.reason : "";
    renderVote();
  }

  function renderVote() {
    const box = $("#room-vote");
    const poll = current && current.poll;
    const parts = poll ? partsOf(poll) : [];
    if (!poll || poll.status === "closed" && !parts.some((q) => myVotes[q.key])) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.dataset.status = poll.status;
    // One line per era voted on; with two eras each line names its era.
    fill(box, parts.map((q) => {
      const line = voteLine(poll, q, myVotes[q.key] || null);
      if (parts.length > 1) line.prepend(el("span", { class: "era-badge small" }, q.era), " ");
      return line;
    }));
  }

  function voteLine(poll, q, mine) {
    if (poll.status === "open") {
      return mine ? el("p", { class: "vote-mine" }, `Your vote: ${choiceText(mine)}. You can change it until the reveal.`)
        : el("p", {}, q.kind === "pick" ? "Vote now: click the page in the diagram (or pick 'a page that does not exist yet')."
          : "Vote now: pick your answer in the question box.");
    }
    if (poll.status === "revealed") {
      const right = q.right || [];
      const answer = choiceText(right[0]);
      return !mine ? el("p", {}, `The answer: ${answer}.`)
        : right.includes(mine) ? el("p", { class: "feedback good vote-verdict" }, `✓ You were right: ${choiceText(mine)}.`)
          : el("p", { class: "feedback bad vote-verdict" }, `✗ You voted ${choiceText(mine)}. The answer: ${answer}.`);
    }
    return el("p", {}, mine ? `Vote closed. Your vote: ${choiceText(mine)}. Wait for the reveal.` : "Vote closed.");
  }

  async function vote(index, choice) {
    const pane = state.panes[index];
    const poll = current && current.poll;
    if (choice === "skip") return;
    const part = poll && pane && pane.data && poll.step === pane.data.step ? partsOf(poll).find((q) => q.era === pane.era) : null;
    if (!poll || poll.status !== "open" || !part) {
      roomStatus("The vote on this question is not open: the presenter opens it.", "info");
      return;
    }
    const reply = await transport.request("room_vote", { choice, era: pane.era });
    if (!reply.ok) {
      roomStatus(reply.error);
      return;
    }
    roomStatus(null);
    myVotes[reply.key] = reply.choice;
    document.body.dataset.voted = reply.choice;
    renderVote();
  }

  $("#room-resync").addEventListener("click", resync);
  onKey("s", () => {
    if (!following) resync();
  });

  socket.on("room", (r) => {
    if (current && r.seq < current.seq) return; // an older message overtaken by a newer one
    current = r;
    packs.offer(r.packs);
    if (r.ended) close({ reason: "ended", message: ENDED });
    renderState();
    if (following) drive();
  });
  // The room has gone (it expired, or ended): say so where the room bar speaks, and stop following.
  socket.on("room_closed", (msg) => {
    if (msg.code !== code) return;
    close(msg);
    renderState();
  });
  function close(msg) {
    if (closed && closed.reason === "ended") return;
    closed = { reason: msg.reason, message: msg.message }; // renderState() says it, in the room bar
  }

  transport.onConnect(async () => {
    const reply = await transport.request("room_join", { code, fid: followerId(code) });
    if (!reply.ok) {
      document.body.dataset.room = "refused";
      // Said once, in the room bar: e.g. "room K7MHX has ended or expired: ask the presenter for the new code".
      close({ reason: /has ended|expired/.test(reply.error) ? "expired" : "refused", message: `Not following: ${reply.error}.` });
      renderState();
      if (!state.opened) await page.openAt(null, 0);
      return;
    }
    roomStatus(null);
    closed = null;
    followerId(code, reply.fid);
    current = reply.room;
    packs.offer(current.packs);
    Object.assign(myVotes, reply.votes || (reply.vote && current.poll ? { [current.poll.key]: reply.vote } : {}));
    document.body.dataset.room = "following";
    shown = null;
    if (following) await drive();
    else renderState();
  });
}
