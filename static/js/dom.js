// Small DOM helpers shared by the page modules.  No kernel logic here or anywhere in the browser.

// el("button", {class: "x", onclick: f}, "text", child) -> a new element.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Trusted HTML only: narration comes from the server's safe Markdown renderer (html disabled).
export function html(tag, attrs, markup) {
  const node = el(tag, attrs);
  node.innerHTML = markup || "";
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// Replace a node's children; arrays are flattened and null / false / undefined skipped (as in el()).
export function fill(node, ...children) {
  clear(node);
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// The JSON the server rendered into the page for its script.
export function bootData() {
  const node = document.getElementById("boot");
  return node ? JSON.parse(node.textContent) : {};
}

// Show a user-facing error above the stage; null hides it.
export function showError(message) {
  const box = document.getElementById("error");
  if (!box) return;
  box.hidden = !message;
  box.textContent = message || "";
}
