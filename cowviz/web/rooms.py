"""Classroom rooms: one presenter drives, every follower's screen follows, polls run on the questions.

    Rooms(store, limits)                 the room logic, shared by the HTTP pages and the socket handlers
    MemoryStore()                        room state in this process (the default)
    RedisStore(url)                      room state in Redis (`app.py --message-queue redis://...`), so
                                         several server processes share rooms (docs/deploy.md)

A room is a small JSON record: what the presenter shows (walkthrough or sandbox, eras, step,
selection, revealed questions), the poll, a sequence number, and the SHA-256 of the presenter's
secret.  The secret itself is made when the room is made, given to the presenter's page once,
and never stored or sent anywhere else.  Votes are kept per question as follower id -> choice;
a follower id is a random token the follower's tab keeps, nothing personal.

Expiry: a room lives while its presenter is connected; once the presenter has gone (or never
connected), it ends after `idle` seconds unless the presenter comes back.  No room lives longer
than `max_age`.  The protocol is in docs/web.md ("Rooms"), the lecturer's guide docs/classroom.md.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import threading
import time

from .library import WebError

# No look-alikes: no 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 6/G, 8/B, U/V.
ALPHABET = "ACEFHKMNPRTWXY3479"
CODE_LENGTH = 5

DEFAULT_ROOM_LIMITS = {
    "idle": 30 * 60,             # seconds a room waits for its presenter to come back
    "max_age": 12 * 3600,        # seconds a room lives at most
    "followers": 300,            # followers per room
    "rooms": 50,                 # rooms per server (all processes sharing one Redis count together)
    "rate": 5.0,                 # follower room requests per second, on average ...
    "burst": 10,                 # ... with bursts up to this many
    "sweep": 10.0,               # seconds between looks for rooms that have gone (followers are told)
}


def normalise_code(code) -> str:
    """A typed code: case and spaces do not matter.  Raises WebError for anything that cannot be a code."""
    if not isinstance(code, str):
        raise WebError("a room code is text, like K7MHX")
    c = "".join(code.split()).upper()
    if not 4 <= len(c) <= 6 or any(ch not in ALPHABET for ch in c):
        raise WebError(f"'{code[:20]}' is not a room code: a code has {CODE_LENGTH} letters and digits, "
                       "as shown on the presenter's screen")
    return c


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _gone(code: str) -> WebError:
    return WebError(f"room {code} has ended or expired: ask the presenter for the new code")


# -- stores -------------------------------------------------------------------------------------
#
# A store keeps rooms by code.  Only the presenter writes a room's state; followers add votes and
# their membership.  Both stores expire rooms the same way (see the module doc).

class MemoryStore:
    """Rooms in this process's memory."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.rooms: dict[str, dict] = {}          # code -> record
        self.deadline: dict[str, float] = {}      # code -> time it expires
        self.votes: dict[str, dict] = {}          # code -> {question key -> {fid: choice}}
        self.followers: dict[str, set] = {}       # code -> {sid}
        self.blobs: dict[str, dict] = {}          # code -> {name: text} (a sandbox room's state)

    def _sweep(self):
        now = self.clock()
        for code in [c for c, t in self.deadline.items() if t <= now]:
            self._drop(code)

    def _drop(self, code):
        for d in (self.rooms, self.deadline, self.votes, self.followers, self.blobs):
            d.pop(code, None)

    def create(self, code: str, record: dict, ttl: float, max_rooms: int) -> bool:
        with self.lock:
            self._sweep()
            if len(self.rooms) >= max_rooms:
                raise WebError(f"this server already has {max_rooms} rooms, its limit: end a room, "
                               "or wait until an idle one expires")
            if code in self.rooms:
                return False
            self.rooms[code] = json.loads(json.dumps(record))
            self.deadline[code] = self.clock() + ttl
            self.votes[code] = {}
            self.followers[code] = set()
            return True

    def get(self, code: str):
        with self.lock:
            self._sweep()
            r = self.rooms.get(code)
            return json.loads(json.dumps(r)) if r is not None else None

    def put(self, code: str, record: dict) -> None:
        with self.lock:
            if code in self.rooms:
                self.rooms[code] = json.loads(json.dumps(record))

    def touch(self, code: str, ttl: float) -> None:
        with self.lock:
            if code in self.rooms:
                self.deadline[code] = self.clock() + ttl

    def delete(self, code: str) -> None:
        with self.lock:
            self._drop(code)

    def count(self) -> int:
        with self.lock:
            self._sweep()
            return len(self.rooms)

    def put_blob(self, code: str, name: str, text: str) -> None:
        with self.lock:
            if code in self.rooms:
                self.blobs.setdefault(code, {})[name] = text

    def get_blob(self, code: str, name: str):
        with self.lock:
            self._sweep()
            return self.blobs.get(code, {}).get(name)

    def add_follower(self, code: str, sid: str, limit: int) -> int:
        with self.lock:
            members = self.followers.get(code)
            if members is None:
                raise _gone(code)
            if sid not in members and len(members) >= limit:
                raise WebError(f"room {code} is full ({limit} followers): ask the presenter")
            members.add(sid)
            return len(members)

    def remove_follower(self, code: str, sid: str) -> int:
        with self.lock:
            members = self.followers.get(code, set())
            members.discard(sid)
            return len(members)

    def follower_count(self, code: str) -> int:
        with self.lock:
            return len(self.followers.get(code, ()))

    def vote(self, code: str, question: str, fid: str, choice: str) -> dict:
        with self.lock:
            votes = self.votes.get(code)
            if votes is None:
                raise _gone(code)
            q = votes.setdefault(question, {})
            q[fid] = choice
            return _tally(q.values())

    def vote_of(self, code: str, question: str, fid: str):
        with self.lock:
            return self.votes.get(code, {}).get(question, {}).get(fid)

    def tally(self, code: str, question: str) -> dict:
        with self.lock:
            return _tally(self.votes.get(code, {}).get(question, {}).values())

    def all_tallies(self, code: str) -> dict:
        with self.lock:
            return {q: _tally(v.values()) for q, v in self.votes.get(code, {}).items()}


def _tally(choices) -> dict:
    out: dict = {}
    for c in choices:
        out[c] = out.get(c, 0) + 1
    return out


class RedisStore:
    """Rooms in Redis, shared by every server process that names the same Redis (--message-queue).

    Keys (prefix `cowviz:room:CODE`): the record (a JSON string, with the room's TTL), `:followers`
    (a set of connection ids), `:votes:QUESTION` (a hash fid -> choice), `:blob:sandbox` (a sandbox
    room's state as followers draw it); all with the same TTL.
    `cowviz:rooms` is a set of codes, pruned of expired ones when rooms are counted.
    """

    PREFIX = "cowviz:room:"

    def __init__(self, url: str):
        import redis                                   # only needed with --message-queue
        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        self.r.ping()

    def _k(self, code, *rest):
        return self.PREFIX + code + "".join(":" + x for x in rest)

    def _related(self, code) -> list:
        return [self._k(code, "followers"), *(self.r.smembers(self._k(code, "questions")) or ()),
                self._k(code, "questions"), self._k(code, "blob", "sandbox")]

    def count(self) -> int:
        codes = list(self.r.smembers("cowviz:rooms"))
        if not codes:
            return 0
        pipe = self.r.pipeline()
        for c in codes:
            pipe.exists(self._k(c))
        flags = pipe.execute()
        dead = [c for c, f in zip(codes, flags) if not f]
        if dead:
            self.r.srem("cowviz:rooms", *dead)
        return len(codes) - len(dead)

    def create(self, code: str, record: dict, ttl: float, max_rooms: int) -> bool:
        if self.count() >= max_rooms:
            raise WebError(f"this server already has {max_rooms} rooms, its limit: end a room, "
                           "or wait until an idle one expires")
        if not self.r.set(self._k(code), json.dumps(record), nx=True, ex=max(1, int(ttl))):
            return False
        self.r.sadd("cowviz:rooms", code)
        return True

    def get(self, code: str):
        raw = self.r.get(self._k(code))
        return json.loads(raw) if raw is not None else None

    def put(self, code: str, record: dict) -> None:
        self.r.set(self._k(code), json.dumps(record), xx=True, keepttl=True)

    def touch(self, code: str, ttl: float) -> None:
        t = max(1, int(ttl))
        pipe = self.r.pipeline()
        for k in [self._k(code), *self._related(code)]:
            pipe.expire(k, t)
        pipe.execute()

    def delete(self, code: str) -> None:
        self.r.delete(self._k(code), *self._related(code))
        self.r.srem("cowviz:rooms", code)

    def _ttl(self, code) -> int:
        t = self.r.ttl(self._k(code))
        if t is None or t < 0:
            raise _gone(code)
        return t

    def put_blob(self, code: str, name: str, text: str) -> None:
        self.r.set(self._k(code, "blob", name), text, ex=self._ttl(code))

    def get_blob(self, code: str, name: str):
        return self.r.get(self._k(code, "blob", name))

    def add_follower(self, code: str, sid: str, limit: int) -> int:
        ttl = self._ttl(code)
        key = self._k(code, "followers")
        if not self.r.sismember(key, sid) and self.r.scard(key) >= limit:
            raise WebError(f"room {code} is full ({limit} followers): ask the presenter")
        pipe = self.r.pipeline()
        pipe.sadd(key, sid)
        pipe.expire(key, ttl)
        pipe.scard(key)
        return pipe.execute()[-1]

    def remove_follower(self, code: str, sid: str) -> int:
        key = self._k(code, "followers")
        pipe = self.r.pipeline()
        pipe.srem(key, sid)
        pipe.scard(key)
        return pipe.execute()[-1]

    def follower_count(self, code: str) -> int:
        return self.r.scard(self._k(code, "followers"))

    def vote(self, code: str, question: str, fid: str, choice: str) -> dict:
        ttl = self._ttl(code)
        key = self._k(code, "votes", question)
        pipe = self.r.pipeline()
        pipe.hset(key, fid, choice)
        pipe.expire(key, ttl)
        pipe.sadd(self._k(code, "questions"), key)
        pipe.expire(self._k(code, "questions"), ttl)
        pipe.hvals(key)
        return _tally(pipe.execute()[-1])

    def vote_of(self, code: str, question: str, fid: str):
        return self.r.hget(self._k(code, "votes", question), fid)

    def tally(self, code: str, question: str) -> dict:
        return _tally(self.r.hvals(self._k(code, "votes", question)))

    def all_tallies(self, code: str) -> dict:
        keys = sorted(self.r.smembers(self._k(code, "questions")))
        prefix = self._k(code, "votes") + ":"
        return {k[len(prefix):]: _tally(self.r.hvals(k)) for k in keys}


# -- the rooms ----------------------------------------------------------------------------------

class RateLimit:
    """A token bucket per connection: `rate` requests a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets: dict[str, tuple] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self.lock:
            now = self.clock()
            tokens, then = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1:
                self.buckets[key] = (tokens, now)
                return False
            self.buckets[key] = (tokens - 1, now)
            return True

    def forget(self, key: str) -> None:
        with self.lock:
            self.buckets.pop(key, None)


class Rooms:
    """Room records and every rule about them.  No Socket.IO here: the namespace calls in and emits."""

    def __init__(self, store, limits: dict | None = None, clock=time.time):
        self.store = store
        self.limits = {**DEFAULT_ROOM_LIMITS, **(limits or {})}
        self.clock = clock
        self.rate = RateLimit(self.limits["rate"], self.limits["burst"])

    # -- making and claiming -----------------------------------------------------------------

    def create(self, view: dict) -> tuple:
        """A new room showing `view` (from the presenter page's query).  Returns (code, secret)."""
        secret = secrets.token_urlsafe(24)
        record = {"secret": _digest(secret), "created": self.clock(), "seq": 0, "ended": False,
                  "presenter": None, "view": view, "poll": None}
        for _ in range(20):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if self.store.create(code, record, self.limits["idle"], self.limits["rooms"]):
                return code, secret
        raise WebError("could not find a free room code; try again")

    def get(self, code: str) -> dict:
        room = self.store.get(code)
        if room is None or self.clock() - room["created"] > self.limits["max_age"]:
            raise _gone(code)
        return room

    def check_secret(self, code: str, secret) -> dict:
        """The room, if `secret` is its presenter's.  Refuses a forged key or one of a room that is gone."""
        code = normalise_code(code)
        room = self.get(code)
        if not isinstance(secret, str) or not hmac.compare_digest(_digest(secret), room["secret"]):
            raise WebError(f"this is not the presenter's key for room {code}: only the browser that made "
                           "the room can present it (make a new room with /present/NAME)")
        return room

    def claim(self, code: str, secret, sid: str) -> dict:
        """The presenter (re)connects: `sid` now drives the room, which lives on while it is connected."""
        room = self.check_secret(code, secret)
        if room["ended"]:
            raise WebError(f"room {code} has ended")
        room["presenter"] = sid
        self.store.put(code, room)
        self.store.touch(code, self.limits["max_age"])
        return room

    def presenter_left(self, code: str, sid: str) -> None:
        room = self.store.get(code)
        if room is not None and room.get("presenter") == sid:
            room["presenter"] = None
            self.store.put(code, room)
            self.store.touch(code, self.limits["idle"])

    def _presenting(self, code: str, sid: str) -> dict:
        room = self.get(code)
        if room["ended"]:
            raise WebError(f"room {code} has ended")
        if room["presenter"] != sid:
            raise WebError("only the presenter can change what the room sees")
        return room

    def _save(self, code: str, room: dict) -> dict:
        room["seq"] += 1
        self.store.put(code, room)
        return room

    def set_view(self, code: str, sid: str, view: dict) -> dict:
        room = self._presenting(code, sid)
        room["view"] = view
        poll = room["poll"]
        if poll and poll["status"] == "open" and (poll["step"] != view.get("step") or poll["name"] != view.get("name")):
            poll["status"] = "closed"                   # moving on closes the vote
        return self._save(code, room)

    def end(self, code: str, sid: str) -> dict:
        room = self._presenting(code, sid)
        room["ended"] = True
        room["presenter"] = None
        self._save(code, room)
        self.store.touch(code, self.limits["idle"])    # results stay downloadable a while
        return room

    # -- polls ---------------------------------------------------------------------------------

    @staticmethod
    def question_key(name: str, step: int, era: str) -> str:
        return f"{name}|{step}|{era}"

    def open_poll(self, code: str, sid: str, poll: dict) -> dict:
        room = self._presenting(code, sid)
        room["poll"] = {**poll, "status": "open", "right": None}
        return self._save(code, room)

    def close_poll(self, code: str, sid: str, status: str, rights=None) -> dict:
        """Close the vote, or reveal it: `rights` {question key: the votes that count as right}."""
        room = self._presenting(code, sid)
        poll = room["poll"]
        if poll is None:
            raise WebError("no vote is open")
        poll["status"] = status
        if status == "revealed":
            parts = poll.get("parts") or [poll]
            for q in parts:
                q["right"] = (rights or {}).get(q["key"])
                key = f"{poll['step']}:{q['era']}"
                revealed = room["view"].setdefault("revealed", [])
                if key not in revealed:
                    revealed.append(key)
            poll["right"] = parts[0]["right"]
        return self._save(code, room)

    def vote(self, code: str, sid: str, fid: str, choice: str, key: str | None = None) -> tuple:
        """A follower's vote on the open poll (on question `key`, default its first).  Returns (room, tally).
        The caller checks the choice."""
        room = self.get(code)
        poll = room["poll"]
        if room["ended"]:
            raise WebError(f"room {code} has ended")
        if poll is None or poll["status"] != "open":
            raise WebError("the vote is closed" if poll else "no vote is open")
        keys = [q["key"] for q in poll.get("parts") or [poll]]
        if key is not None and key not in keys:
            raise WebError("that question is not being voted on")
        tally = self.store.vote(code, key or poll["key"], fid, choice)
        return room, tally

    def results_csv(self, code: str, secret) -> str:
        """Results per question: counts per choice and how many were right.  No follower ids."""
        room = self.check_secret(code, secret)
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["room", "walkthrough", "step", "era", "question", "choice", "right", "votes"])
        questions = room.get("questions", {})
        for key, tally in sorted(self.store.all_tallies(code).items(), key=lambda kv: _qorder(kv[0])):
            name, step, era = key.split("|")
            q = questions.get(key, {})
            right = set(q.get("right") or ())
            for choice in q.get("choices", []) + sorted(c for c in tally if c not in q.get("choices", [])):
                w.writerow([code, name, step, era, q.get("question", ""), choice,
                            ("yes" if choice in right else "no") if q.get("right") is not None else "",
                            tally.get(choice, 0)])
        return out.getvalue()


def _qorder(key: str):
    name, step, era = key.split("|")
    return (name, int(step), era)
