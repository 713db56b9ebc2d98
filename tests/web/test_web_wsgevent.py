"""Production mode's WebSocket (cowviz/web/wsgevent.py): RFC 6455 frames read and written in the
connection's own thread.  Driven here over a socket pair with frames a client sends; the whole path
(a real server, real Socket.IO clients and Chromium) is in test_web_production.py."""
from __future__ import annotations

import os
import socket
import struct
import threading

import pytest

from cowviz.web.wsgevent import GeventWebSocket, accept_key, frame, unmask


def client_frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = True) -> bytes:
    """A frame as a client sends it (masked)."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, mask_bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mask_bit | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock) -> tuple[int, bytes]:
    """(opcode, payload) of one unmasked server frame."""
    def exactly(n):
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            assert chunk, "the server side closed before the frame ended"
            out += chunk
        return out
    b0, b1 = exactly(2)
    assert b0 & 0x80 and not b1 & 0x80            # final, and a server never masks
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exactly(8))[0]
    return b0 & 0x0F, exactly(n)


@pytest.fixture
def pair():
    server_end, client = socket.socketpair()
    server_end.settimeout(5)
    client.settimeout(5)
    ws = GeventWebSocket(handler=None, server=type("S", (), {"max_http_buffer_size": 1000})())
    ws._sock, ws.connected = server_end, True
    yield ws, client
    server_end.close()
    client.close()


def test_the_accept_key_is_rfc_6455s_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_unmask_undoes_a_mask_of_any_length():
    mask = b"\x01\x02\x03\x04"
    for n in (0, 1, 3, 4, 5, 127, 1000):
        data = os.urandom(n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        assert unmask(mask, masked) == data


def test_text_and_binary_messages_come_out_whole(pair):
    ws, client = pair
    client.sendall(client_frame(0x1, "42/cowviz,1[\"step\",{\"step\":1}]".encode()) + client_frame(0x2, b"\x00\xff"))
    assert ws.wait() == '42/cowviz,1["step",{"step":1}]'
    assert ws.wait() == b"\x00\xff"
    text = "é" * 200                                  # 400 bytes: the 16-bit length form
    client.sendall(client_frame(0x1, text.encode()))
    assert ws.wait() == text


def test_a_fragmented_message_is_joined_and_a_ping_between_its_parts_is_answered(pair):
    ws, client = pair
    client.sendall(client_frame(0x1, b"hel", fin=False) + client_frame(0x9, b"are you there")
                   + client_frame(0x0, b"lo", fin=False) + client_frame(0x0, b" there"))
    assert ws.wait() == "hello there"
    assert read_frame(client) == (0xA, b"are you there")


def test_what_the_server_sends_is_one_unmasked_frame(pair):
    ws, client = pair
    for message in ("3", "x" * 300, "y" * 70000):
        ws.send(message)
        assert read_frame(client) == (0x1, message.encode())
    ws.send(b"\x01\x02")
    assert read_frame(client) == (0x2, b"\x01\x02")
    assert frame(0x1, b"ab") == b"\x81\x02ab"


def test_a_close_from_the_client_is_answered_and_ends_the_connection(pair):
    ws, client = pair
    client.sendall(client_frame(0x8, struct.pack("!H", 1001)))
    assert ws.wait() is None and not ws.connected
    assert read_frame(client) == (0x8, struct.pack("!H", 1001))
    with pytest.raises(OSError):
        ws.send("4late")


@pytest.mark.parametrize("data, code", [
    (client_frame(0x1, b"hi", masked=False), 1002),                 # a client must mask
    (client_frame(0x1, "x".encode() * 1001), 1009),                 # past max_http_buffer_size
    (client_frame(0x1, b"ab", fin=False) + client_frame(0x1, b"cd"), 1002),   # a new message mid-message
    (client_frame(0x0, b"ab"), 1002),                               # a continuation of nothing
    (client_frame(0x1, b"\xff\xfe"), 1007),                         # text that is not UTF-8
    (client_frame(0x3, b""), 1002),                                 # an opcode that does not exist
    (client_frame(0x9, b"p" * 10, fin=False), 1002),                # a fragmented control frame
])
def test_a_protocol_error_closes_with_its_code_and_nothing_is_handed_on(pair, data, code):
    ws, client = pair
    client.sendall(data)
    assert ws.wait() is None and not ws.connected
    opcode, payload = read_frame(client)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == code and payload[2:]


def test_a_client_that_goes_away_ends_the_wait(pair):
    ws, client = pair
    client.sendall(client_frame(0x1, b"abc")[:4])        # half a frame, then gone
    client.close()
    assert ws.wait() is None and not ws.connected


def test_sends_from_two_threads_never_interleave(pair):
    ws, client = pair
    big = ["a" * 200_000, "b" * 200_000]
    got = []

    def reader():
        for _ in big:
            got.append(read_frame(client))
    t = threading.Thread(target=reader)
    t.start()
    threads = [threading.Thread(target=ws.send, args=(m,)) for m in big]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.join(10)
    assert sorted(p for _, p in got) == [m.encode() for m in big]


def test_a_fast_lane_reply_goes_straight_out_only_when_nothing_is_on_its_way_before_it(pair):
    import queue

    import socketio

    from cowviz.web.wsgevent import direct_sender
    ws, client = pair
    queued = []

    class EioSocket:
        upgraded, upgrading, closed, closing = True, False, False, False
        cowviz_ws = ws

        def __init__(self):
            self.queue = queue.Queue()

    class Server:
        class eio:
            sockets = {"e1": EioSocket()}

        def _send_packet(self, eio_sid, pkt):
            queued.append((eio_sid, pkt.encode()))

    send = direct_sender(Server())
    ack = socketio.packet.Packet(socketio.packet.ACK, namespace="/cowviz", data=[{"ok": True}], id=5)
    send("e1", ack)                                             # idle: straight onto the WebSocket
    assert read_frame(client) == (0x1, b'43/cowviz,5[{"ok":true}]') and queued == []
    Server.eio.sockets["e1"].queue.put("a ping on its way out")
    send("e1", ack)                                             # something queued first: behind it
    Server.eio.sockets["e1"].queue.get()
    ws.sending = 1                                              # the writer is mid-send: behind it
    send("e1", ack)
    ws.sending = 0
    Server.eio.sockets["e1"].upgrading = True                   # not a WebSocket yet: the usual way
    send("e1", ack)
    send("gone", ack)                                           # no such connection: the usual way
    assert queued == [("e1", '3/cowviz,5[{"ok":true}]')] * 3 + [("gone", '3/cowviz,5[{"ok":true}]')]
