"""Production mode: `python app.py --production` serves with gevent instead of the threading dev server.

Flask-SocketIO's deployment notes name gevent's WSGI server as a production-ready server
(eventlet is deprecated); one process, one worker (a Socket.IO server needs sticky sessions to be
spread over several: docs/deploy.md).  WebSockets are read and written in each connection's own
green thread (cowviz/web/wsgevent.py) rather than through simple-websocket's extra thread.  Every
connection is a green thread, not an OS thread, and this module bounds what a client can hold:

- a request line and its headers must arrive within HEADER_TIMEOUT seconds (an idle keep-alive
  connection is closed after as long), so half-sent requests cannot pile up;
- at most `max_connections` TCP connections are served at once; past that a connection gets a
  short `503 Service Unavailable` ("the server is full") and is closed at once;
- at most `max_clients` Socket.IO connections (learners) at once; past that a connect is refused
  with a message the page shows (CowvizNamespace, COWVIZ_MAX_CLIENTS).

The gevent monkey-patching (sockets, threads, locks, sleep and subprocess become green) must come
before anything else is imported: app.py does it first thing when its command line has --production.
"""
from __future__ import annotations

import resource
import socket
import sys

HEADER_TIMEOUT = 10.0
MAX_CLIENTS = 1000
FULL_BODY = b"the cowviz server is full; try again in a minute\n"
FULL_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 b"Retry-After: 60\r\nConnection: close\r\nContent-Length: " + str(len(FULL_BODY)).encode()
                 + b"\r\n\r\n" + FULL_BODY)


def add_arguments(parser) -> None:
    """The command-line options of production mode (python app.py --help)."""
    g = parser.add_argument_group("production mode (docs/deploy.md)")
    g.add_argument("--production", action="store_true",
                   help="serve with gevent (green threads, bounded connections, header timeouts) "
                        "instead of the development server: for a class")
    g.add_argument("--max-clients", type=int, metavar="N",
                   help=f"refuse Socket.IO connections past N at once (production default {MAX_CLIENTS}; "
                        "the development server has no limit unless given)")
    g.add_argument("--max-connections", type=int, metavar="N",
                   help="production: answer 503 to TCP connections past N at once (default 2 x max-clients + 50)")
    g.add_argument("--header-timeout", type=float, metavar="S", default=HEADER_TIMEOUT,
                   help=f"production: close a connection whose request line and headers take longer than S "
                        f"seconds (default {HEADER_TIMEOUT:g})")
    g.add_argument("--no-warm", action="store_true",
                   help="do not run and lay out the walkthroughs at start-up (they are laid out on first use)")


def config_from(args) -> dict:
    """The app config the options ask for."""
    config = {}
    if args.production:
        config["COWVIZ_ASYNC_MODE"] = "gevent"
        config["COWVIZ_MAX_CLIENTS"] = args.max_clients if args.max_clients is not None else MAX_CLIENTS
    elif args.max_clients is not None:
        config["COWVIZ_MAX_CLIENTS"] = args.max_clients
    return config


def make_handler(max_connections: int, header_timeout: float):
    """A gevent WSGIHandler class that bounds connections and the time a request's head may take."""
    from gevent import Timeout
    from gevent.pywsgi import WSGIHandler

    class BoundedHandler(WSGIHandler):
        active = 0                                  # connections being served (green threads: no lock)

        def handle(self):
            cls = type(self)
            if cls.active >= max_connections:
                try:
                    self.socket.sendall(FULL_RESPONSE)
                except OSError:
                    pass
                try:
                    self.socket.close()
                except OSError:
                    pass
                return
            cls.active += 1
            try:
                # Replies go out at once: without this a keep-alive request waits out the client's
                # delayed ACK (Nagle's algorithm), 40 ms on Linux.
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                super().handle()
            finally:
                cls.active -= 1

        def handle_one_request(self):
            # The timer covers waiting for the request line (also between keep-alive requests) and
            # reading the headers; read_request cancels it, so the application (long-polling, a
            # WebSocket) takes the time it needs.
            self._head_timer = Timeout(header_timeout)
            self._head_timer.start()
            try:
                result = super().handle_one_request()
                if result is True and getattr(self, "environ", {}).get("HTTP_UPGRADE", "").lower() == "websocket":
                    # The WebSocket has ended: what follows on this socket is its leftover close frame,
                    # not an HTTP request.  Close the connection.
                    return None
                return result
            except Timeout as t:
                if t is not self._head_timer:
                    raise
                return None                         # close the connection
            finally:
                self._head_timer.close()

        def read_request(self, raw_requestline):
            try:
                return super().read_request(raw_requestline)
            finally:
                self._head_timer.cancel()

    return BoundedHandler


def serve(app, host: str, port: int, args, on_listening=None) -> None:
    """Serve `app` (made with COWVIZ_ASYNC_MODE=gevent) until interrupted; on_listening() runs once
    the socket listens (the warm-up starts then, so it cannot delay the server's start)."""
    from gevent.pywsgi import WSGIServer

    socketio = app.extensions["socketio"]
    if socketio.server.eio.async_mode != "gevent":
        raise RuntimeError("production mode needs the app made with async_mode gevent (app.py --production)")
    from .wsgevent import direct_sender, install as install_websocket
    install_websocket(socketio)                     # WebSockets read in the connection's own green thread
    socketio.server.cowviz_reply = direct_sender(socketio.server)     # fast-lane replies sent at once
    max_clients = app.config["COWVIZ_MAX_CLIENTS"]
    max_connections = args.max_connections or 2 * max_clients + 50
    _raise_file_limit(max_connections + 100)
    server = WSGIServer((host, port), app, handler_class=make_handler(max_connections, args.header_timeout),
                        backlog=2048, log=None, environ={"SERVER_NAME": host})
    socketio.wsgi_server = server                   # what SocketIO.stop() stops
    print(f"cowviz: production server (gevent): at most {max_clients} clients, {max_connections} connections, "
          f"{args.header_timeout:g} s for a request's head", flush=True)
    server.start()
    if on_listening is not None:
        on_listening()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def _raise_file_limit(wanted: int) -> None:
    """Each connection is a file descriptor: raise the soft limit toward the hard one if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < wanted:
        print(f"cowviz: warning: only {soft} open files allowed (ulimit -n); {wanted} wanted", file=sys.stderr)
