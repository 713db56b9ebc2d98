// The tutorial page: each walkthrough's progress in this browser, and where to carry on.
import { initChrome } from "./settings.js";
import { resetProgress, summary } from "./progress.js";

initChrome(null);

function render() {
  let nextUp = null;
  for (const item of document.querySelectorAll(".series-item")) {
    const s = summary(item.dataset.name, Number(item.dataset.total));
    const badge = item.querySelector(".progress");
    const marks = { new: "○", started: "◐", done: "●" };
    badge.textContent = `${marks[s.state]} ${s.text}${s.answered ? ` · ${s.answered} answered` : ""}`;
    item.dataset.state = s.state;
    item.classList.remove("up-next");
    if (!nextUp && s.state !== "done") nextUp = item;
  }
  if (nextUp) nextUp.classList.add("up-next");
}

document.getElementById("reset-progress")?.addEventListener("click", () => {
  if (!window.confirm("Forget which walkthroughs you have done and your answers?")) return;
  for (const item of document.querySelectorAll(".series-item")) resetProgress(item.dataset.name);
  render();
});

render();
