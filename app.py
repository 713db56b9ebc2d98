"""cowviz web app: `python app.py [--host H] [--port N] [--lab] [--production]`, then open http://127.0.0.1:5000."""
from __future__ import annotations

import sys

if __name__ == "__main__" and "--production" in sys.argv[1:]:
    # gevent's monkey-patching must come before anything else is imported (cowviz/web/production.py).
    from gevent import monkey
    monkey.patch_all()

import argparse
import os

from flask import Flask
from flask_socketio import SocketIO

from cowviz.web import init_app, production
from cowviz.web.packets import TextPacket
from cowviz.web.security import security_config

HERE = os.path.dirname(os.path.abspath(__file__))


def create_app(config=None) -> Flask:
    """The Flask app with its SocketIO object (app.extensions["socketio"]).  `config` overrides the defaults."""
    app = Flask(__name__, template_folder=os.path.join(HERE, "templates"),
                static_folder=os.path.join(HERE, "static"))
    app.config.update(COWVIZ_SCENARIOS=os.path.join(HERE, "scenarios"),
                      COWVIZ_NODE_MODULES=os.path.join(HERE, "node_modules"),
                      COWVIZ_LAB=os.environ.get("COWVIZ_LAB") == "1")
    app.config.update(config or {})
    # threading: simple-websocket gives real WebSockets without eventlet or gevent.  Production mode
    # (app.py --production) uses gevent, with the same simple-websocket.
    # TextPacket: cowviz sends only JSON text, so no packet is searched for binary parts.
    socketio = SocketIO(app, async_mode=app.config.get("COWVIZ_ASYNC_MODE", "threading"), serializer=TextPacket,
                        # A message queue (Redis) lets several processes share rooms and broadcasts (docs/deploy.md).
                        message_queue=app.config.get("COWVIZ_MESSAGE_QUEUE"))
    init_app(app, socketio)
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python app.py", description="Start the cowviz web player.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--scenarios", action="append", default=[], metavar="DIR",
                        help="add a folder of scenario files beside the shipped ones, as its own section (repeatable)")
    parser.add_argument("--library", metavar="DIR", help="use DIR instead of the shipped scenarios/ (for tests)")
    parser.add_argument("--author", metavar="DIR",
                        help="let the editor's Save write into DIR (without it nothing is written on the server)")
    parser.add_argument("--lab", action="store_true",
                        help="enable 'run on this machine' (runs real processes as this user; off by default)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="also answer to this host name or address (repeatable; docs/security.md)")
    parser.add_argument("--frame-ancestors", action="append", default=[], metavar="ORIGIN",
                        help="let pages of this origin embed the player in a frame (repeatable)")
    production.add_arguments(parser)
    parser.add_argument("--message-queue", metavar="redis://HOST:PORT/DB",
                        help="share classroom rooms with other processes through this Redis (docs/deploy.md)")
    args = parser.parse_args(argv)
    config = {"COWVIZ_SCENARIOS": os.path.abspath(args.library)} if args.library else {}
    for folder in args.scenarios + ([args.author] if args.author else []):
        if not os.path.isdir(folder):
            parser.error(f"{folder}: no such folder")
    extra = [os.path.abspath(f) for f in args.scenarios]
    if args.author and os.path.abspath(args.author) not in extra:
        extra.append(os.path.abspath(args.author))      # what the editor saves shows up in the library
    config["COWVIZ_EXTRA_SCENARIOS"] = extra
    if args.author:
        config["COWVIZ_AUTHOR"] = os.path.abspath(args.author)
    config.update(production.config_from(args))
    try:
        config.update(security_config(args.host, args.allow_host, args.frame_ancestors))
    except ValueError as e:
        parser.error(str(e))
    if args.message_queue:
        config["COWVIZ_MESSAGE_QUEUE"] = args.message_queue
    if args.lab:
        config["COWVIZ_LAB"] = True
    app = create_app(config)
    print(f"cowviz: open http://{args.host}:{args.port}/", flush=True)
    warm = (lambda: None) if args.no_warm else (lambda: warm_in_background(app))
    if args.production:
        production.serve(app, args.host, args.port, args, on_listening=warm)
        return
    warm()
    # Werkzeug refuses to start without a terminal unless told this is intended (CI, test subprocesses).
    app.extensions["socketio"].run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


def warm_in_background(app) -> None:
    """Run and lay out the walkthroughs while the server already answers (cowviz/web/warm.py)."""
    warmer = app.extensions["cowviz"]["warmer"]

    def done(count, seconds, errors):
        print(f"cowviz: walkthroughs ready: {count} layouts in {seconds:.1f} s"
              + (f" ({len(errors)} could not be laid out: {errors[0]})" if errors else ""), flush=True)
    warmer.on_done = done
    print(f"cowviz: warming {len(warmer.pairs())} walkthrough layouts in the background", flush=True)
    warmer.start(app.extensions["socketio"].start_background_task)


if __name__ == "__main__":
    main()
