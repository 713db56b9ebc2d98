"""Production mode's WebSocket: RFC 6455 read and written in the connection's own green thread.

Engine.IO (python-engineio) runs a WebSocket through an object with `wait()` (the next message,
or None when the connection has ended), `send(message)` and `close()`, made by the async driver's
'websocket' class.  Under gevent that is simple-websocket by default: a second green thread per
connection that reads, parses the frames with wsproto and hands each message over through an
event, and frames built by wsproto on the way out.  For a class stepping at once those were the
largest part of the server's time per step after the step itself; so production mode uses this
class instead (install()): `wait()` reads the socket itself, in the connection's green thread, and
`send()` writes a frame with one sendall.

What it does, as RFC 6455 asks of a server:
- the opening handshake (101, Sec-WebSocket-Accept); a request that is not a version-13 WebSocket
  upgrade gets 400 and nothing else;
- client frames must be masked; text (UTF-8), binary, fragmented messages (continuations), ping
  (answered with pong), pong (ignored), close (answered, then the connection ends);
- a message longer than Engine.IO's limit (max_http_buffer_size) closes the connection with 1009;
  a protocol error (unmasked frame, bad opcode, bad UTF-8) with 1002/1007;
- no extensions are negotiated: per-message compression would cost more CPU per step than the
  bytes it saves on a loopback or a classroom LAN.

The development server (threading) keeps simple-websocket.
"""
from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
READ = 65536


def install(socketio) -> None:
    """Make the Socket.IO server's Engine.IO use GeventWebSocket (async_mode gevent only)."""
    eio = socketio.server.eio
    if eio.async_mode != "gevent":
        raise RuntimeError("the gevent WebSocket is for async_mode gevent")
    eio._async = {**eio._async, "websocket": GeventWebSocket}


def direct_sender(server):
    """send(eio_sid, packet) for the fast lane's replies (ordered.install): straight onto the connection's
    WebSocket when nothing is on its way out before it, else through Engine.IO's queue as usual.

    Engine.IO hands each packet to a writer green thread through a queue, a wake-up and a switch per
    packet.  A reply may skip that only if it cannot overtake: the queue is empty and the writer is
    not in the middle of a send (under gevent nothing runs between the writer taking packets from the
    queue and starting to send them, so then it is idle).  Green threads only: under OS threads that
    reasoning does not hold."""
    from engineio import packet as eio_packet

    eio = server.eio

    def send(eio_sid, pkt):
        s = eio.sockets.get(eio_sid)
        ws = getattr(s, "cowviz_ws", None)
        if (ws is None or not ws.connected or ws.sending or not s.upgraded or s.upgrading or s.closed or s.closing
                or not s.queue.empty()):
            return server._send_packet(eio_sid, pkt)
        text = pkt.encode()
        if not isinstance(text, str):                    # pragma: no cover - cowviz sends text only
            return server._send_packet(eio_sid, pkt)
        try:
            ws.send(eio_packet.Packet(eio_packet.MESSAGE, data=text).encode())
        except OSError:
            pass                                         # gone: as a queued packet of a closed socket
    return send


class ProtocolError(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode("latin-1") + GUID).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (what a server sends)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def unmask(mask: bytes, data: bytes) -> bytes:
    n = len(data)
    if not n:
        return b""
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
    return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")


def _socket_of(environ):
    """The client's socket from gevent's WSGI environ (as simple-websocket finds it), duplicated."""
    wsgi_input = environ["wsgi.input"]
    if not hasattr(wsgi_input, "raw") and hasattr(wsgi_input, "rfile"):
        wsgi_input = wsgi_input.rfile
    sock = wsgi_input.raw._sock
    try:
        return sock.dup()
    except NotImplementedError:                  # pragma: no cover
        return sock


class GeventWebSocket:
    """Engine.IO's WebSocket under gevent: made with (handler, server), called as a WSGI app."""

    def __init__(self, handler, server):
        self.app = handler
        self.max_message = getattr(server, "max_http_buffer_size", None) or 1_000_000
        self._sock = None
        self._buf = bytearray()
        self._send_lock = threading.Lock()      # green under gevent's monkey-patching
        self.sending = 0                        # sends begun and not finished (direct_sender)
        self.connected = False
        self.environ = None

    # -- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "")
        if (environ.get("HTTP_UPGRADE", "").lower() != "websocket"
                or environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13" or len(key) != 24):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"a WebSocket upgrade (version 13) was expected\n"]
        self.environ = environ
        self._sock = _socket_of(environ)
        self._sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           b"Sec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n")
        self.connected = True
        owner = getattr(self.app, "__self__", None)      # the Engine.IO socket whose handler this runs
        if owner is not None:
            owner.cowviz_ws = self
        try:
            return self.app(self)
        finally:
            self.connected = False
            try:
                self._sock.close()
            except OSError:                      # pragma: no cover
                pass

    # -- what Engine.IO calls ---------------------------------------------------------------------

    def send(self, message) -> None:
        if not self.connected:
            raise OSError("the WebSocket is closed")
        data = frame(0x2, message) if isinstance(message, bytes) else frame(0x1, str(message).encode("utf-8"))
        self.sending += 1
        try:
            with self._send_lock:
                self._sock.sendall(data)
        finally:
            self.sending -= 1

    def wait(self):
        """The next message (str for text, bytes for binary), or None once the connection has ended."""
        # Let the other connections' green threads run first.  A socket read that finds data does not
        # yield, so a client that always has its next request waiting (a fast one) would otherwise be
        # served again and again while the others wait: fair turns, one message each.
        time.sleep(0)
        try:
            return self._next_message()
        except ProtocolError as e:
            self._close(e.code, str(e))
            return None
        except (OSError, EOFError):
            self.connected = False
            return None

    def close(self) -> None:
        self._close(1000, "")

    # -- frames -----------------------------------------------------------------------------------

    def _close(self, code: int, reason: str) -> None:
        if not self.connected:
            return
        self.connected = False
        try:
            with self._send_lock:
                self._sock.sendall(frame(0x8, struct.pack("!H", code) + reason.encode("utf-8")[:120]))
        except OSError:
            pass

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._sock.recv(READ)
            if not chunk:
                raise EOFError
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _next_message(self):
        parts, kind, size = [], None, 0
        while self.connected:
            b0, b1 = self._read(2)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b0 & 0x70:
                raise ProtocolError(1002, "no extension was negotiated")
            if not b1 & 0x80:
                raise ProtocolError(1002, "a client frame must be masked")
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if opcode >= 0x8:                                    # control frames
                if n > 125 or not fin:
                    raise ProtocolError(1002, "a control frame is short and never fragmented")
                mask = self._read(4)
                payload = unmask(mask, self._read(n))
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
                    self._close(code if 1000 <= code < 5000 else 1000, "")
                    return None
                if opcode == 0x9:
                    with self._send_lock:
                        self._sock.sendall(frame(0xA, payload))
                elif opcode != 0xA:
                    raise ProtocolError(1002, f"unknown opcode {opcode}")
                continue
            if opcode == 0x0:
                if kind is None:
                    raise ProtocolError(1002, "a continuation frame with no message to continue")
            elif opcode in (0x1, 0x2):
                if kind is not None:
                    raise ProtocolError(1002, "a new message before the last one ended")
                kind = opcode
            else:
                raise ProtocolError(1002, f"unknown opcode {opcode}")
            size += n
            if size > self.max_message:
                raise ProtocolError(1009, "the message is too big")
            mask = self._read(4)
            parts.append(unmask(mask, self._read(n)))
            if fin:
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                if kind == 0x2:
                    return data
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError(1007, "a text message that is not UTF-8") from None
        return None
