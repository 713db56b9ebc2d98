"""Replies are encoded as the standard JSON encoder would, with each walkthrough pane encoded once."""
from __future__ import annotations

import json

import pytest

from cowviz.web.packets import Pane, SharedList, TextPacket, encode


def std(obj):
    return json.dumps(obj, separators=(",", ":"))


@pytest.mark.parametrize("obj", [
    None, 1, "é\u2028\"x", [], {}, [{"ok": True, "panes": [], "n": 1.5}],
    [{"ok": True, "mode": "play", "eras": ["5.9"], "nested": {"a": [1, {"b": None}]}, 3: "int key"}],
    [[[[["deep"]]]]], {"k": ("tuple", 1)}, [{"ok": False, "error": "unknown walkthrough 'x'"}],
])
def test_encode_is_the_standard_encoding(obj):
    assert encode(obj) == std(obj)
    assert json.loads(encode(obj)) == json.loads(std(obj))


def test_a_pane_is_encoded_once_and_spliced_into_every_reply():
    p = Pane({"era": "5.9", "step": 2, "frame": {"nodes": [{"id": "page:1", "x": 1.5}]}, "narration": "<p>é</p>"})
    reply = [{"ok": True, "step": 2, "panes": [p, p]}]
    plain = [{"ok": True, "step": 2, "panes": [dict(p), dict(p)]}]
    assert encode(reply) == std(plain)
    assert p.json_text() is p.json_text()                       # made once
    packet = TextPacket(3, data=reply, namespace="/cowviz", id=7)
    assert packet.encode() == "3/cowviz,7" + std(plain)


def test_a_cached_pane_cannot_be_changed_by_one_connection_for_all():
    p = Pane({"step": 1})
    for change in (lambda: p.__setitem__("step", 2), lambda: p.update(step=2), lambda: p.pop("step"),
                   lambda: p.clear(), lambda: p.setdefault("x", 1), lambda: p.__delitem__("step")):
        with pytest.raises(TypeError, match="shared by every connection"):
            change()
    assert p == {"step": 1} and dict(p) == {"step": 1}
    t = SharedList([{"tags": ["fork"], "ok": True}])
    for change in (lambda: t.append(1), lambda: t.__setitem__(0, 1), lambda: t.extend([1]), lambda: t.pop(),
                   lambda: t.clear(), lambda: t.sort(), lambda: t.insert(0, 1)):
        with pytest.raises(TypeError, match="shared by every connection"):
            change()
    import copy
    import pickle
    for shared in (p, t):                         # a copy is a plain, changeable value
        for c in (copy.deepcopy(shared), pickle.loads(pickle.dumps(shared)), copy.copy(shared)):
            assert c == shared and type(c) in (dict, list)
    assert encode([{"timelines": {"5.9": t}}]) == std([{"timelines": {"5.9": [{"tags": ["fork"], "ok": True}]}}])


def test_replies_are_never_searched_for_binary_parts():
    assert TextPacket.uses_binary_events is False
    assert TextPacket(3, data=[{"ok": True}], namespace="/cowviz", id=1).packet_type == 3
