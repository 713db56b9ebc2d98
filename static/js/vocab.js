// The event vocabulary and the text metrics, as the server declares them once (cowviz/mm/tags.py,
// cowviz/diagram/style.py TEXT) and hands them to every page in <script id="vocab"> (base.html).
// Nothing of a tag (its words, letter, priority) and no text metric is written in any other file;
// the tags' colours come in the server's /vocab.css.
const node = document.getElementById("vocab");
const data = node ? JSON.parse(node.textContent) : null;
if (!data) console.error("cowviz: the page has no vocabulary (<script id=\"vocab\">)");

const list = data?.tags || [];

// name -> {name, meaning, word, badge, letter, colour, key}
export const TAGS = Object.fromEntries(list.map((t) => [t.name, t]));

// The tag names, most important first (an object with several tags is drawn as its first).
export const PRIORITY = list.map((t) => t.name);

// The tags worth a timeline marker, most telling first, with the letter drawn for each.
export const MARKS = list.filter((t) => t.letter).map((t) => [t.name, t.letter]);

// The tags the key gives a row, most important first.
export const KEY_TAGS = list.filter((t) => t.key);

// The tags whose story is a page's exclusive bit: the focus view keeps that line in view.
export const EXCLUSIVE_TAGS = data?.exclusive_tags || [];

// The text metrics: font, sizes (CSS px), the width a character is given and the line height.
export const TEXT = data?.text || {};

// The width given to `chars` characters of text at `size` px.
export function textWidth(chars, size = TEXT.size) {
  return chars * TEXT.char * size / TEXT.size;
}

export function tagWord(tag) {
  return TAGS[tag]?.word || tag;
}
