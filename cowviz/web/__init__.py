"""The web player: Flask pages, one Socket.IO namespace, per-connection sessions (docs/web.md).

    init_app(app, socketio)   plugs the blueprint and the /cowviz namespace into an app

Nothing outside this package imports it.
"""
from __future__ import annotations

from .frames import FrameSource
from .library import Library, WebError
from .classroom import bp as rooms_bp
from .namespace import CowvizNamespace
from .ordered import install as install_ordering
from .security import install as install_security
from .rooms import MemoryStore, RedisStore, Rooms
from .sandbox import DEFAULT_LIMITS
from .session import Session
from .views import bp
from .warm import Warmer
from .editor import bp as editor_bp
from .packs import bp as packs_bp
from .vocab import bp as vocab_bp

NAMESPACE = "/cowviz"


def init_app(app, socketio) -> None:
    """Register the pages and the Socket.IO namespace, with the scenario library the app's config names."""
    app.config.setdefault("COWVIZ_LIMITS", dict(DEFAULT_LIMITS))
    library = Library(app.config["COWVIZ_SCENARIOS"], app.config.get("COWVIZ_EXTRA_SCENARIOS", ()))
    frames = FrameSource()
    lab = _lab_runner() if app.config.get("COWVIZ_LAB") else None
    # Classroom rooms (docs/classroom.md): in this process, or in Redis when processes share a message queue.
    queue = app.config.get("COWVIZ_MESSAGE_QUEUE")
    rooms = Rooms(RedisStore(queue) if queue else MemoryStore(), app.config.get("COWVIZ_ROOMS"))
    app.extensions["cowviz"] = {"library": library, "frames": frames, "rooms": rooms}
    app.register_blueprint(bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(rooms_bp)
    app.register_blueprint(packs_bp)
    app.register_blueprint(vocab_bp)
    limits = app.config["COWVIZ_LIMITS"]

    def make_session():
        return Session(library, frames, limits, lab)
    app.extensions["cowviz"]["warmer"] = Warmer(library, make_session)       # started by app.py main()
    namespace = CowvizNamespace(NAMESPACE, make_session, app.config.get("COWVIZ_MAX_CLIENTS"), rooms)
    socketio.on_namespace(namespace)
    # One connection's events in order, dropped when it leaves; a warm `step` answered at once.
    install_ordering(socketio.server, inline=namespace.answer_at_once)
    # Last, so the Host check and the security headers wrap the Socket.IO handshake too.
    install_security(app)


def _lab_runner():
    """The live-kernel probe (cowviz.lab, docs/lab.md) for sessions."""
    from .labrun import LabRunner
    return LabRunner()


__all__ = ["CowvizNamespace", "Library", "NAMESPACE", "Session", "WebError", "init_app"]
