// Links that carry a scenario (or a sandbox session) in the URL fragment, which never reaches the
// server: #s=<base64url of the deflate-raw compressed UTF-8 text>.  cowviz/web/share.py makes and
// reads the same format (tests, and `share_link()` for the docs).  The limits are the server's.

export const MAX_FRAGMENT = 24000; // characters after "#s=": links longer than this are not made or opened
export const MAX_TEXT = 256 * 1024; // bytes of text once decompressed

function toBase64Url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(code) {
  if (!/^[A-Za-z0-9_-]*$/.test(code)) throw new Error("it contains characters a link of this kind never has");
  const bin = atob(code.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((code.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

// text -> the fragment code; throws Error with a reader's message when the result is too long.
export async function encodeShare(text) {
  const code = toBase64Url(await pipe(new TextEncoder().encode(text), new CompressionStream("deflate-raw")));
  if (code.length > MAX_FRAGMENT) {
    throw new Error(`too long for a link (${code.length} characters compressed, at most ${MAX_FRAGMENT}): ` +
      "save the file and send it instead");
  }
  return code;
}

// The fragment code -> text; throws Error saying what is wrong with the link.
export async function decodeShare(code) {
  if (code.length > MAX_FRAGMENT) throw new Error(`this link is too long (${code.length} characters, at most ${MAX_FRAGMENT})`);
  let bytes;
  try {
    bytes = await pipe(fromBase64Url(code), new DecompressionStream("deflate-raw"));
  } catch (e) {
    throw new Error("this link is broken: it was cut short or changed on the way (ask for it again)");
  }
  if (bytes.length > MAX_TEXT) throw new Error(`this link carries more than ${MAX_TEXT / 1024} KiB of text`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error("this link is broken: its text is not UTF-8");
  }
}

// The code in location.hash after `#key=`, or null.
export function fragmentCode(key = "s") {
  const m = location.hash.match(new RegExp(`^#${key}=(.*)$`));
  return m ? m[1] : null;
}
