"""The Socket.IO packets cowviz sends: text only.

Every cowviz message is JSON text (docs/web.md); nothing is sent as binary.  python-socketio's
default packet walks every value of every outgoing message looking for bytes to send as binary
attachments; for a step's reply (a pane of 8-27 KB: the diagram frame and the inspector's
entries) that walk was the largest part of the server's time per step, more than encoding the JSON
itself.  TextPacket skips it (`uses_binary_events = False`, as python-socketio's own msgpack
packet does); the wire format is unchanged for every message cowviz sends.  Panes are encoded once (below).
"""
from __future__ import annotations

import json

from socketio.packet import Packet


class TextPacket(Packet):
    """A Socket.IO packet whose data is never binary (SocketIO(..., serializer=TextPacket))."""

    uses_binary_events = False


# -- panes encoded once ----------------------------------------------------------------------------
#
# A walkthrough's pane for one step is the same for every learner (it is made from immutable,
# cached inputs), so it is built and encoded once and kept on its Prepared; every reply that
# carries it splices the stored JSON text in.  The walk below goes only three levels deep (the
# acknowledgement's argument list, the reply, the list of panes), so encoding a reply costs about
# as much as its small parts, not its 8-27 KB of diagram and inspector data.

_ENCODER = json.JSONEncoder(separators=(",", ":"))    # json.dumps(obj, separators=...) without a new encoder per call
_dumps = _ENCODER.encode
_str = json.encoder.encode_basestring_ascii               # what that encoder does with a str


class Pane(dict):
    """A pane shared by every connection: read-only, with its JSON text made once."""

    __slots__ = ("_text",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._text = None

    def json_text(self) -> str:
        if self._text is None:
            self._text = _dumps(dict(self))
        return self._text

    def _frozen(self, *args, **kwargs):
        raise TypeError("a cached pane is shared by every connection: copy it (dict(pane)) to change it")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _frozen

    def __reduce__(self):                 # a copy (copy.deepcopy, pickle) is a plain dict, free to change
        return (dict, (dict(self),))


class SharedList(list):
    """A list shared by every connection (a walkthrough's timeline): read-only, its JSON made once."""

    __slots__ = ("_text",)

    def __init__(self, *args):
        super().__init__(*args)
        self._text = None

    def json_text(self) -> str:
        if self._text is None:
            self._text = _dumps(list(self))
        return self._text

    _frozen = Pane._frozen
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _frozen
    __iadd__ = __imul__ = _frozen

    def __reduce__(self):
        return (list, (list(self),))


def cached_pane(prepared, key, build):
    """What `build()` makes for `key` of a walkthrough under one era (a pane for (step, held), its
    "info" or "timeline"), made once per Prepared and shared: a Pane (dict) or a SharedList."""
    have = prepared.panes.get(key)
    if have is None:
        value = build()
        have = prepared.panes.setdefault(key, SharedList(value) if isinstance(value, list) else Pane(value))
    return have


def encode(obj, depth: int = 3) -> str:
    """JSON text of `obj` (as json.dumps(obj, separators=(",", ":")) gives), with Panes spliced in."""
    t = type(obj)
    if t is Pane or t is SharedList:
        return obj.json_text()
    if t is bool:
        return "true" if obj else "false"
    if t is int:
        return int.__repr__(obj)
    if t is str:
        return _str(obj)
    if depth:
        if t is list:
            return "[" + ",".join([encode(x, depth - 1) for x in obj]) + "]"
        if t is dict and all(type(k) is str for k in obj):
            return "{" + ",".join([_str(k) + ":" + encode(v, depth - 1) for k, v in obj.items()]) + "}"
    return _dumps(obj)


class _JSON:
    """The json module TextPacket encodes with: the standard one, but Panes are spliced in."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(obj, **kwargs) -> str:
        return encode(obj)


TextPacket.json = _JSON
