"""Events of one connection run in order, one at a time; those still queued when it leaves are dropped.

python-socketio runs each event in a new thread of its own (async_handlers), so two events sent
back to back by one page can finish in either order: 60 `command` events in a row came out with
lines swapped.  Running them in the connection's receive loop instead (async_handlers=False)
would keep the order but stop the loop from noticing that the client left while a long request
runs.  So: each connection gets a FIFO, filled in arrival order by the receive loop, and one
worker task that empties it; other connections are not held up, the receive loop stays free
(a disconnect is seen at once and sets the session's `gone`, which long work checks), and an
event still queued when its connection is gone is never run.

    install(socketio.server)      once, after the SocketIO object has its server

This replaces Server._handle_event (python-socketio, pinned in requirements.txt) with a version
that queues; with async_handlers off (Flask-SocketIO's test client turns it off) it is not used.

The fast lane: an event that can be answered from the shared caches alone (a `step` of a
walkthrough whose runs are laid out: a few dictionary look-ups and a pre-encoded pane) is answered
at once, in the receive loop, when nothing of its connection is queued or running: there is no
long work to cancel and no order to keep.  `inline(sid, namespace, data)` returns its reply, or
None to queue the event as above.  That skips a task per event and Flask-SocketIO's request
context (an app context, a request object and URL matching per event), which were most of the
server's time per step of a class stepping at once.
"""
from __future__ import annotations

import collections
import threading

from socketio import packet


def install(server, inline=None) -> None:
    """Queue `server`'s events per connection; `inline` is the fast lane (above).  Its replies go out
    through the server's own _send_packet, or `server.cowviz_reply(eio_sid, packet)` when production mode
    sets that quicker one (wsgevent.direct_sender)."""
    original = server._handle_event
    queues: dict = {}
    lock = threading.Lock()

    def run(eio_sid, namespace, id, data):
        # What python-socketio's _handle_event does, without its thread: look the client up now,
        # so an event of a connection that has gone meanwhile is dropped.
        namespace = namespace or "/"
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not server.manager.is_connected(sid, namespace):
            return
        server._handle_event_internal(server, sid, eio_sid, data, namespace, id)

    def worker(eio_sid):
        while True:
            with lock:
                q = queues[eio_sid]
                if not q:
                    del queues[eio_sid]
                    return
                item = q.popleft()
            try:
                run(eio_sid, *item)
            except Exception:                      # pragma: no cover - the namespace answers every error
                server.logger.exception("event handler failed")

    def handle_event(eio_sid, namespace, id, data):
        if not server.async_handlers:
            return original(eio_sid, namespace, id, data)
        if inline is not None:
            with lock:
                idle = eio_sid not in queues
            ns = namespace or "/"
            sid = server.manager.sid_from_eio_sid(eio_sid, ns) if idle else None
            if sid is not None and server.manager.is_connected(sid, ns):
                reply = inline(sid, ns, data)
                if reply is not None:
                    if id is not None:
                        send = getattr(server, "cowviz_reply", None) or server._send_packet
                        send(eio_sid, server.packet_class(
                            packet.ACK, namespace=namespace, data=[reply], id=id))
                    return
        with lock:
            q = queues.get(eio_sid)
            start = q is None
            if start:
                q = queues[eio_sid] = collections.deque()
            q.append((namespace, id, data))
        if start:
            server.start_background_task(worker, eio_sid)

    server._handle_event = handle_event
