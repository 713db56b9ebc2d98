// Deep links: the URL holds the walkthrough, the era or the two compared eras, and the step.
//   /play/NAME?era=5.9&step=7        /play/NAME?compare=5.9-rc,5.9&step=7

export function readPlayUrl() {
  const q = new URLSearchParams(window.location.search);
  const compare = q.get("compare");
  const era = q.get("era");
  const step = q.get("step");
  return {
    eras: compare ? compare.split(",").filter(Boolean) : era ? [era] : null,
    step: step === null ? null : step,
  };
}

export function writePlayUrl(eras, step) {
  const q = new URLSearchParams();
  if (eras.length === 2) q.set("compare", eras.join(","));
  else q.set("era", eras[0]);
  q.set("step", String(step));
  const room = new URLSearchParams(window.location.search).get("room"); // a presenter's page keeps its room
  if (room) q.set("room", room);
  if (document.body.classList.contains("projector")) q.set("projector", "1");
  const url = `${window.location.pathname}?${q.toString().replace(/%2C/g, ",")}`;
  if (url !== window.location.pathname + window.location.search) window.history.replaceState(null, "", url);
}

export function readSandboxUrl() {
  return { era: new URLSearchParams(window.location.search).get("era") };
}

export function writeSandboxUrl(era) {
  const url = `${window.location.pathname}?era=${encodeURIComponent(era)}`;
  window.history.replaceState(null, "", url);
}
