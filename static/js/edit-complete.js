// Completion in the scenario editor, walking the server's command grammar (boot.grammar, made from
// GRAMMAR in cowviz/scenario/command.py) and the keys and eras the server sent: no vocabulary here.
// Names (tasks, VMAs, holders, pipes) are the ones the file's earlier `do:` lines create.

const DO_LINE = /^(\s*(?:-\s+)?do:\s*["']?)(.*)$/;
const ERA_LINE = /^\s*(?:eras|kernel|compare):\s*\[?(?:[^\]#]*,\s*)?([^,\]\s#]*)$/;
const KEY_LINE = /^(\s*)(-\s+)?([A-Za-z]*)$/;
const PER_ERA = /^\s*(?:-\s+)?(expect|say|answer|explain):\s*$/;

// The names that the do: lines before `upto` (a line number) create, by kind.
export function namesIn(doc, upto, grammar) {
  const names = { tasks: new Set(), vmas: new Map(), devices: new Set(), pipes: new Set() };
  for (let n = 1; n < upto && n <= doc.lines; n += 1) {
    const m = doc.line(n).text.match(DO_LINE);
    if (!m) continue;
    const words = m[2].replace(/["']\s*$/, "").split("#")[0].trim().split(/\s+/).filter(Boolean);
    const entry = grammar[words[0]];
    if (!entry) continue;
    const form = entry.forms.find((f) => f.every((a, i) => a.kind !== "word" || !words[i + 1] || a.words.includes(words[i + 1])));
    if (!form) continue;
    let task = null;
    form.forEach((arg, i) => {
      const w = words[i + 1];
      if (!w || arg.kind === "flags") return;
      if (["task", "task-or-new", "new-task"].includes(arg.kind)) {
        if (arg.kind === "new-task" && task && names.vmas.has(task)) names.vmas.set(w, new Map(names.vmas.get(task)));
        task = w;
        names.tasks.add(w);
      } else if (arg.kind === "new-vma" && task) {
        if (!names.vmas.has(task)) names.vmas.set(task, new Map());
        const pages = Number(words[i + 2]);
        names.vmas.get(task).set(w, Number.isFinite(pages) ? pages : 1);
      } else if (arg.kind === "device" && arg.creates) {
        names.devices.add(w);
      } else if (arg.kind === "pipe" && arg.creates) {
        names.pipes.add(w);
      }
    });
  }
  return names;
}

function candidatesFor(form, args, names) {
  const fixed = form.filter((a) => a.kind !== "flags");
  const n = args.length;
  if (n >= fixed.length) {
    const flags = form.find((a) => a.kind === "flags");
    if (!flags) return [];
    const used = new Set(args.slice(fixed.length));
    return flags.words.flatMap((w) => (w === "xN" ? ["x2", "x1025"] : [w])).filter((w) => !used.has(w));
  }
  const arg = fixed[n];
  let task = "";
  for (let i = n - 1; i >= 0; i -= 1) {
    if (["task", "task-or-new", "new-task"].includes(fixed[i].kind)) {
      task = args[i];
      break;
    }
  }
  const vmas = names.vmas.get(task) || new Map();
  switch (arg.kind) {
    case "task":
    case "task-or-new":
      return [...names.tasks];
    case "vma":
      return [...vmas.keys()];
    case "page":
      return [...vmas.entries()].flatMap(([v, pages]) => Array.from({ length: Math.min(pages, 16) }, (_, i) => `${v}[${i}]`));
    case "device":
      return [...names.devices];
    case "pipe":
      return [...names.pipes];
    case "word":
      return arg.words;
    default:
      return [];
  }
}

function eraIds(boot) {
  return [...boot.all_eras.map((e) => e.id), ...Object.keys(boot.aliases)];
}

// A CodeMirror CompletionSource.
export function completeAt(ctx, boot) {
  const line = ctx.state.doc.lineAt(ctx.pos);
  const before = line.text.slice(0, ctx.pos - line.from);
  const grammar = boot.grammar;
  const doLine = before.match(DO_LINE);
  if (doLine) {
    const typed = doLine[2];
    if (typed.includes("#")) return null;
    const words = typed.split(/\s+/).filter(Boolean);
    const partial = /\s$/.test(typed) || typed === "" ? "" : words.pop();
    const from = ctx.pos - partial.length;
    if (!words.length) {
      return { from, options: Object.entries(grammar).map(([op, g]) => ({ label: op, type: "keyword", detail: g.usage })) };
    }
    const entry = grammar[words[0]];
    if (!entry) return null;
    const names = namesIn(ctx.state.doc, line.number, grammar);
    const args = words.slice(1);
    const seen = new Set();
    const options = [];
    entry.forms.forEach((form) => {
      if (form.some((a, i) => i < args.length && a.kind === "word" && !a.words.includes(args[i]))) return;
      candidatesFor(form, args, names).forEach((c) => {
        if (!seen.has(c)) options.push({ label: c, type: "variable", detail: entry.usage });
        seen.add(c);
      });
    });
    return options.length ? { from, options } : null;
  }
  const era = before.match(ERA_LINE);
  if (era) {
    return { from: ctx.pos - era[1].length, options: eraIds(boot).map((id) => ({ label: id, type: "constant" })) };
  }
  const key = before.match(KEY_LINE);
  if (key && (ctx.explicit || key[3].length)) {
    const indent = key[1].length;
    // A key under a per-era field is an era; at the left margin a file key; under steps a step key.
    let above = line.number - 1;
    while (above >= 1 && !ctx.state.doc.line(above).text.trim()) above -= 1;
    const prev = above >= 1 ? ctx.state.doc.line(above).text : "";
    const prevIndent = prev.match(/^\s*/)[0].length + (prev.match(/^\s*-\s+/) ? 2 : 0);
    let words;
    if (PER_ERA.test(prev) && indent > prevIndent - 1) words = eraIds(boot).map((e) => `${e}: `);
    else if (/^\s*(?:-\s+)?ask:\s*$/.test(prev)) words = boot.keys.ask.map((k) => `${k}: `);
    else if (indent === 0 && !key[2]) words = boot.keys.top.map((k) => `${k}: `);
    else words = boot.keys.step.map((k) => `${k}: `);
    return { from: ctx.pos - key[3].length, options: words.map((w) => ({ label: w, type: "property" })) };
  }
  return null;
}
