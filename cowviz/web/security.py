"""What the server lets in and what it tells the browser: the Host allow-list and the security headers.

    install(app)      wrap app.wsgi_app (outermost, so the Socket.IO handshake under /socket.io/
                      is checked too) with HostGuard, using the app's config:

    COWVIZ_ALLOWED_HOSTS    names and addresses a request's Host may name (besides loopback)
    COWVIZ_ANY_IP_HOST      True when the server listens on every interface (--host 0.0.0.0):
                            any IP-address Host is then accepted too
    COWVIZ_FRAME_ANCESTORS  origins that may embed the pages in a frame (default: none)

DNS rebinding (docs/security.md): a page on evil.example re-points its name at 127.0.0.1 and then
talks to us as `Host: evil.example`, `Origin: http://evil.example`; same-origin checks pass because
both name the attacker.  So the Host itself must be one we serve under: loopback, an address
(a rebinding needs a name), or a name the lecturer passed.  The Origin of a Socket.IO handshake
must be allowed the same way.  A refused request gets a 400 with a one-line reason, and nothing
else runs.
"""
from __future__ import annotations

import ipaddress
import re

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")

# One source expression of frame-ancestors: 'self', or scheme://host[:port] with an optional *. prefix.
_ANCESTOR = re.compile(r"('self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?)\Z")
_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}\Z")


def host_name(value: str | None) -> str | None:
    """The host part of a Host header or origin authority (`name:port`, `[v6]:port`), lower case; None if malformed."""
    if not value or len(value) > 300:
        return None
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1:] and not re.fullmatch(r":\d{1,5}", value[end + 1:])):
            return None
        name = value[1:end]
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        return name
    name, _, port = value.partition(":")
    if port and not port.isdigit() or not port.isascii():
        return None
    name = name.rstrip(".")
    if not _HOSTNAME.match(name):
        return None
    return name


def _norm(name: str) -> str:
    """A name as compared: an address in its canonical form, a name in lower case without a final dot."""
    name = name.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower().rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_frame_ancestors(sources) -> list[str]:
    """The frame-ancestors sources, each checked (ValueError names a bad one): no header injection."""
    out = []
    for s in sources or ():
        s = s.strip()
        if s == "self":
            s = "'self'"
        if not _ANCESTOR.match(s):
            raise ValueError(f"--frame-ancestors: {s!r} is not an origin like https://course.example.edu or 'self'")
        out.append(s)
    return out


def policy(frame_ancestors=(), script_hashes=()) -> str:
    """The Content-Security-Policy: everything from this server only, no inline script or style.

    `script_hashes` ('sha256-...') allow exactly those inline scripts: the editor page's import map."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    scripts = " ".join(["'self'", *script_hashes])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
            f"form-action 'self'; frame-ancestors {ancestors}")


class HostGuard:
    """WSGI middleware: refuse a Host (or a handshake's Origin) not on the allow-list; add the security headers."""

    def __init__(self, wsgi_app, allowed=(), any_ip: bool = False, frame_ancestors=()):
        self.wsgi_app = wsgi_app
        self.allowed = {_norm(a) for a in (*LOOPBACK, *allowed)}
        self.any_ip = any_ip
        ancestors = check_frame_ancestors(frame_ancestors)
        self.headers = [("Content-Security-Policy", policy(ancestors)),
                        ("X-Content-Type-Options", "nosniff"),
                        ("Referrer-Policy", "no-referrer"),
                        ("Cross-Origin-Opener-Policy", "same-origin")]
        if not ancestors:
            self.headers.append(("X-Frame-Options", "DENY"))

    def allows(self, name: str | None) -> bool:
        if name is None:
            return False
        if _norm(name) in self.allowed:
            return True
        if _is_ip(name):
            return self.any_ip or ipaddress.ip_address(name).is_loopback
        return False

    def refusal(self, environ) -> str | None:
        """Why this request is refused, or None."""
        host = environ.get("HTTP_HOST")
        if host is None:
            host = environ.get("SERVER_NAME", "")
        if not self.allows(host_name(host)):
            return (f"this server does not answer to the host name {host[:80]!r}; "
                    "start it with --allow-host NAME to serve under that name (docs/security.md)")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin != "null":
            scheme, sep, authority = origin.partition("://")
            if not sep or scheme not in ("http", "https") or not self.allows(host_name(authority)):
                return f"requests from the page at {origin[:80]!r} are not accepted here (docs/security.md)"
        return None

    def __call__(self, environ, start_response):
        why = self.refusal(environ)
        if why is not None:
            body = (why + "\n").encode("utf-8")
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                               ("Content-Length", str(len(body)))] + self.headers)
            return [body]

        def start(status, headers, exc_info=None):
            have = {k.lower() for k, _ in headers}
            return start_response(status, headers + [h for h in self.headers if h[0].lower() not in have], exc_info)

        return self.wsgi_app(environ, start)


def install(app) -> HostGuard:
    """Put HostGuard around the app's WSGI stack (call after SocketIO(app), so it is outermost)."""
    cfg = app.config
    guard = HostGuard(app.wsgi_app, cfg.get("COWVIZ_ALLOWED_HOSTS", ()), bool(cfg.get("COWVIZ_ANY_IP_HOST")),
                      cfg.get("COWVIZ_FRAME_ANCESTORS", ()))
    app.wsgi_app = guard
    return guard


def hosts_for(bind: str, extra=()) -> tuple[list[str], bool]:
    """From --host and --allow-host: the names to allow, and whether any IP address may be the Host."""
    names = [h for h in extra if h]
    any_ip = bind in WILDCARDS
    if not any_ip:
        names.append(bind)
    return names, any_ip


def security_config(bind: str, allow_hosts=(), frame_ancestors=()) -> dict:
    """The app config for `python app.py --host H --allow-host N --frame-ancestors O`.  ValueError if bad."""
    names, any_ip = hosts_for(bind, allow_hosts)
    for n in names:
        if not (_is_ip(n.strip("[]")) or (":" not in n and host_name(n) is not None)):
            raise ValueError(f"--allow-host: {n!r} is not a host name or address")
    return {"COWVIZ_ALLOWED_HOSTS": names, "COWVIZ_ANY_IP_HOST": any_ip,
            "COWVIZ_FRAME_ANCESTORS": check_frame_ancestors(frame_ancestors)}
