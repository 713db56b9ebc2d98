// Animations between two frames: persisting objects glide, new ones fade in, removed ones fade
// out, changed values flash.  Web Animations API; every function returns the Animation's
// finished promise, so the caller knows when the whole morph has ended.

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

// Speed 1 is the base pace; the player's speed control scales every duration.
let speed = 1;
export function setSpeed(x) {
  speed = x > 0 ? x : 1;
}

export function duration(baseMs) {
  if (reducedMotion.matches) return 0;
  return Math.round(baseMs / speed);
}

function done(animation) {
  return animation.finished.catch(() => undefined);
}

export function fadeIn(node, baseMs = 450) {
  return done(node.animate([{ opacity: 0 }, { opacity: 1 }], { duration: duration(baseMs), easing: "ease-out" }));
}

export function fadeOut(node, baseMs = 350) {
  const a = node.animate([{ opacity: 1 }, { opacity: 0 }], { duration: duration(baseMs), easing: "ease-in", fill: "forwards" });
  return done(a).then(() => node.remove());
}

// Move a node group from one translate() to another.
export function glide(node, from, to, baseMs = 600) {
  if (from.x === to.x && from.y === to.y) return Promise.resolve();
  return done(
    node.animate(
      [{ transform: `translate(${from.x}px, ${from.y}px)` }, { transform: `translate(${to.x}px, ${to.y}px)` }],
      { duration: duration(baseMs), easing: "ease-in-out" },
    ),
  );
}

// A changed value: the node's outline pulses twice (shape and thickness, not only colour).
export function flash(node, baseMs = 900) {
  if (!node) return Promise.resolve();
  node.classList.add("flashing");
  const w = parseFloat(getComputedStyle(node).strokeWidth) || 2;
  const thin = { strokeWidth: `${w}px` };
  const thick = { strokeWidth: `${w * 4}px` };
  const a = node.animate([thin, thick, thin, thick, thin], { duration: duration(baseMs), easing: "ease-in-out" });
  return done(a).then(() => node.classList.remove("flashing"));
}

// Draw an edge in: its line grows from the tail to the head.
export function drawIn(path, baseMs = 500) {
  let length = 0;
  try {
    length = path.getTotalLength();
  } catch {
    length = 0;
  }
  if (!length) return Promise.resolve();
  return done(
    path.animate([{ strokeDasharray: `${length} ${length}`, strokeDashoffset: length },
                  { strokeDasharray: `${length} ${length}`, strokeDashoffset: 0 }],
                 { duration: duration(baseMs), easing: "ease-out" }),
  );
}
