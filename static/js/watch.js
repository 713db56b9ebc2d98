// Pages that show scenario files refresh when a file changes on disk: every 2 seconds (while the tab
// is visible) the page asks the server for a stamp of what it shows (GET /stamp: the whole library,
// or ?name=NAME for one walkthrough) and reloads when the stamp changes.  The player keeps its era
// and step across the reload (they are in the URL).  docs/authoring.md, "Watched folders".
const POLL_MS = 2000;

function watchedName() {
  const m = location.pathname.match(/^\/play\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

export function watch(url = "/stamp" + (watchedName() ? `?name=${encodeURIComponent(watchedName())}` : "")) {
  let last = null;
  const poll = async () => {
    if (document.hidden) return;
    try {
      const r = await fetch(url, { cache: "no-store" });
      if (!r.ok) return;
      const { stamp } = await r.json();
      if (last !== null && stamp !== last) location.reload();
      last = stamp;
    } catch {
      // The server is away for a moment: try again next time.
    }
  };
  poll();
  setInterval(poll, POLL_MS);
}

watch();
