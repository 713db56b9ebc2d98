// A classroom room on the sandbox page: followers see the presenter's commands run on their own
// screen, may type their own (breaking away) and re-sync with one key (docs/classroom.md).
import { $, fill } from "./dom.js";
import { page, room } from "./sandbox-page.js";
import { readSandboxUrl } from "./urlstate.js";
import { isTyping } from "./settings.js";
import { download, followerId, presenterSecret, roomBoot, roomStatus, setFollowers } from "./room-common.js";

const { transport, state, boot } = page;
const code = roomBoot.code;
let current = null;

async function start(era, commands) {
  let reply = await page.request("sandbox", { era, commands });
  if (!reply.ok) reply = await page.request("sandbox", { era: boot.default_era, commands: [] });
  if (reply.ok) {
    state.started = true;
    page.markReady();
  }
  return reply;
}

function saved() {
  try {
    return JSON.parse(localStorage.getItem("cowviz.sandbox.v1")) || {};
  } catch {
    return {};
  }
}

if (roomBoot.role === "presenter") {
  const secret = presenterSecret(code, roomBoot.secret);
  document.body.classList.add("room-presenter");
  let claimed = false;
  const q = new URLSearchParams(window.location.search);
  if (q.get("room") !== code) {
    q.set("room", code);
    window.history.replaceState(null, "", `${window.location.pathname}?${q}`);
  }
  room.onApply = () => {
    // The sandbox page rewrites its URL (?era=): keep the room in it.
    const u = new URLSearchParams(window.location.search);
    if (u.get("room") !== code) {
      u.set("room", code);
      window.history.replaceState(null, "", `${window.location.pathname}?${u}`);
    }
    if (!claimed) return;
    transport.request("room_view", {}).then((reply) => {
      if (reply.ok) current = reply.room;
      else roomStatus(reply.error);
    });
  };
  transport.onConnect(async () => {
    const reply = await transport.request("room_claim", { code, secret });
    claimed = reply.ok;
    if (reply.ok) {
      setFollowers(reply.followers);
      roomStatus(null);
      document.body.dataset.room = "presenting";
    } else {
      roomStatus(reply.error);
      document.body.dataset.room = "refused";
    }
    const have = state.started ? { era: state.era, commands: state.history } : saved();
    await start(state.started ? state.era : readSandboxUrl().era || have.era || boot.default_era, have.commands || []);
  });
  transport.socket.on("room_followers", ({ count }) => setFollowers(count));
  $("#room-qr-toggle").addEventListener("click", () => { $("#room-qr").hidden = !$("#room-qr").hidden; });
  $("#room-qr-close").addEventListener("click", () => { $("#room-qr").hidden = true; });
  $("#room-notes-toggle").hidden = true;
  $("#room-results").addEventListener("click", async () => {
    const reply = await transport.request("room_results", { code, secret });
    if (reply.ok) download(reply.filename, reply.csv, "text/csv");
    else roomStatus(reply.error);
  });
  $("#room-end").addEventListener("click", async () => {
    if (!window.confirm("End the room? Followers are told, and nobody can join it any more.")) return;
    const reply = await transport.request("room_end", {});
    if (!reply.ok) roomStatus(reply.error);
    else {
      claimed = false;
      document.body.dataset.room = "ended";
      roomStatus("The room has ended.", "info");
    }
  });
} else {
  document.body.classList.add("room-follower");
  room.keep = false; // the presenter's session is not saved as this browser's own sandbox
  let following = true;
  let busy = false;
  let again = false;
  // While following, the page draws the presenter's sandbox as the room built it once for everyone
  // (`state` in the room's messages), and this tab's own server session is left empty.  Only when
  // the student does something of their own is that session set to what the page shows, once.
  let synced = false;
  let syncing = null; // the set-up under way: requests made meanwhile (completions as one types) wait for it
  const send = transport.request.bind(transport);
  function sync() {
    if (synced || !state.started) return Promise.resolve();
    syncing ||= send("sandbox", { era: state.era, commands: state.history })
      .then((reply) => { synced = reply.ok; })
      .finally(() => { syncing = null; });
    return syncing;
  }
  // Every request that works on the session (a line, undo, era, completion, export, record, lab) syncs it first.
  transport.request = async (event, data) => {
    if (event !== "sandbox" && !event.startsWith("room_")) await sync();
    return send(event, data);
  };
  room.local = async (event, data) => {
    const v = current && current.view;
    if (event === "sandbox" && following && current && current.state && v && data.era === v.era
        && JSON.stringify(data.commands || []) === JSON.stringify(v.commands)) {
      try {
        const r = await fetch(current.state, { credentials: "same-origin" });
        if (r.ok) {
          const shown = await r.json();
          if (shown.seq >= current.seq || shown.era === v.era && JSON.stringify(shown.history) === JSON.stringify(v.commands)) {
            synced = false;
            return { ok: true, ...shown };
          }
        }
      } catch {
        // Not fetched: the server replays it for this tab (below).
      }
    }
    if (event === "sandbox") synced = true; // the server's own session is set by this request
    return null;
  };
  room.onRun = () => {
    following = false;
    render();
  };

  const render = () => {
    const v = current && current.view;
    document.body.dataset.following = String(following);
    fill($("#room-follow-state"), !current ? "joining…"
      : current.ended ? "The presenter ended the room. You can go on exploring."
        : !v.era ? "Waiting for the presenter to start."
          : following ? `Following the presenter: ${v.commands.length} commands under ${v.era}.`
            : `You are trying things on your own. The presenter has ${v.commands.length} commands.`);
    $("#room-resync").hidden = following || !current || current.ended;
  };

  async function drive() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    do {
      again = false;
      const v = current && current.view;
      if (!following || !v || !v.era) break;
      await start(v.era, v.commands);
    } while (again);
    busy = false;
    document.body.dataset.synced = String(current ? current.seq : 0);
    render();
  }

  const resync = () => {
    following = true;
    render();
    drive();
  };
  $("#room-resync").addEventListener("click", resync);
  document.addEventListener("keydown", (e) => {
    if (!isTyping(e) && e.key.toLowerCase() === "s" && !following) resync();
  });
  transport.socket.on("room", (r) => {
    if (current && r.seq < current.seq) return;
    current = r;
    render();
    if (following) drive();
  });
  transport.onConnect(async () => {
    const reply = await transport.request("room_join", { code, fid: followerId(code) });
    if (!reply.ok) {
      roomStatus(reply.error);
      if (!state.started) await start(boot.default_era, []);
      return;
    }
    followerId(code, reply.fid);
    current = reply.room;
    document.body.dataset.room = "following";
    if (current.view.era) await drive();
    else await start(boot.default_era, []);
    render();
  });
}
