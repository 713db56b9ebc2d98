"""Links that carry a scenario or a sandbox session in their fragment: the format static/js/share.js uses.

    /edit#s=CODE   the editor, with the scenario       /view#s=CODE   the player alone
    /sandbox#c=CODE   a sandbox session: CODE of the JSON {"era", "commands"}

CODE is base64url (no padding) of the deflate-raw compressed UTF-8 text.  The fragment never
reaches the server: the page decodes it and sends the text like any edit (nothing is stored).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import zlib

MAX_FRAGMENT = 24000           # characters of CODE (static/js/share.js has the same numbers)
MAX_TEXT = 256 * 1024          # bytes once decompressed
_CODE = re.compile(r"[A-Za-z0-9_-]*\Z")


class ShareError(ValueError):
    """A link that cannot be made or opened; the message is for the reader."""


def encode(text: str) -> str:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(text.encode("utf-8")) + c.flush()
    code = base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
    if len(code) > MAX_FRAGMENT:
        raise ShareError(f"too long for a link ({len(code)} characters compressed, at most {MAX_FRAGMENT}): "
                         "save the file and send it instead")
    return code


def decode(code: str) -> str:
    if len(code) > MAX_FRAGMENT:
        raise ShareError(f"this link is too long ({len(code)} characters, at most {MAX_FRAGMENT})")
    if not _CODE.match(code):
        raise ShareError("this link is broken: it was cut short or changed on the way (ask for it again)")
    try:
        raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        d = zlib.decompressobj(-15)
        data = d.decompress(raw, MAX_TEXT + 1)
        if not d.eof:
            if len(data) > MAX_TEXT:
                raise ShareError(f"this link carries more than {MAX_TEXT // 1024} KiB of text")
            raise zlib.error("truncated")
    except (binascii.Error, zlib.error, ValueError) as e:
        if isinstance(e, ShareError):
            raise
        raise ShareError("this link is broken: it was cut short or changed on the way (ask for it again)") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ShareError("this link is broken: its text is not UTF-8") from None


def scenario_link(base: str, text: str, view: bool = False) -> str:
    return f"{base.rstrip('/')}/{'view' if view else 'edit'}#s={encode(text)}"


def sandbox_link(base: str, era: str, commands: list) -> str:
    return f"{base.rstrip('/')}/sandbox#c={encode(json.dumps({'era': era, 'commands': commands}))}"
