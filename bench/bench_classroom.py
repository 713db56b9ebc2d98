"""Benchmark: a classroom room with one presenter and N Socket.IO followers (default 200), on loopback.

Against the real server started as users start it (`python app.py --port N`, or with --production,
or with --redis: `--message-queue redis://...` on a real redis-server, rooms in Redis), with
python-socketio clients over WebSocket: the presenter in this process, the followers in PROCESSES
processes (students have their own devices; one GIL for 200 clients would time the harness, not the
server).  Arrival times are CLOCK_MONOTONIC (time.perf_counter on Linux), one clock for every process.

Each follower does what the follower page does (static/js/room-play.js): when it joins it fetches
the walkthrough's pack for the room's era(s) over HTTP (every step's panes, by content hash,
cacheable: docs/web.md "Packs"), and on each `room` message it takes the step's panes from the
pack (or, from a server that pushes panes, from the message) and only then counts as having it.

1. Step: the presenter shows a step (its own `step` request, then `room_view`), and we time from
   sending `room_view` to the LAST follower holding the step's panes.  p50/p95/max over STEPS steps
   (>= 50), forwards and back.  Target: p95 <= 100 ms.  Also printed: the same with the presenter's
   own `step` round trip included; the server's CPU per step; the bytes of one broadcast; the
   followers' own CPU per step (all N clients together: on this machine they share its cores).
2. Poll: the presenter opens the vote on a question; all N followers vote, spread evenly over 2 s;
   time from the first vote sent (and from the last) until the presenter's live tally counts all N.

Bounded: every wait has a timeout, N is capped at 1000, and the servers are stopped at the end.

    .venv/bin/python bench/bench_classroom.py [--followers 200] [--steps 60] [--processes 4]
                                              [--production] [--redis [--servers 2]]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import socketio  # noqa: E402

from tests.web.conftest import start_server, stop_server  # noqa: E402

NS = "/cowviz"
NAME = "08-rdma-regression"     # 16 steps, questions at steps 4 and 6


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(ms):
    return f"p50 {statistics.median(ms):6.1f} ms   p95 {pct(ms, 95):6.1f} ms   max {max(ms):6.1f} ms   (n={len(ms)})"


class Packs:
    """The packs a follower process has fetched (one HTTP cache per process, as one per device)."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.have = {}
        self.lock = threading.Lock()
        self.fetched = 0
        self.bytes = 0

    def get(self, name, era, href):
        key = href or f"/pack/{era}/{name}.json"
        with self.lock:
            pack = self.have.get(key)
            if pack is None:
                r = self.http.get(self.url + key, timeout=60)
                r.raise_for_status()
                self.fetched += 1
                self.bytes += int(r.headers.get("Content-Length", len(r.content)))   # as sent (gzip)
                pack = self.have[key] = r.json()
            return pack


def panes_of(room, packs):
    """The step's panes as the follower page shows them: held unless the room revealed the question."""
    if "panes" in room:                                  # a server that pushes the panes
        return room["panes"]
    view = room["view"]
    if "packs" not in room:                              # only the room's state (a server without packs)
        return []
    out = []
    for era in view.get("eras") or ():
        pack = packs.get(view["name"], era, (room.get("packs") or {}).get(era))
        s = pack["steps"][view["step"]]
        out.append(s["held"] if s["held"] is not None and f"{view['step']}:{era}" not in view.get("revealed", [])
                   else s["shown"])
    return out


class Follower:
    def __init__(self, url, code, report, packs, measure=False):
        self.report = report
        self.packs = packs
        self.measure = measure
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("room", self._room, namespace=NS)
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=30)
        reply = self.sio.call("room_join", {"code": code}, namespace=NS, timeout=60)
        if not reply["ok"]:
            raise RuntimeError(reply["error"])
        panes_of(reply["room"], packs)                   # a late joiner fetches the pack now

    def _room(self, data):
        panes = panes_of(data, self.packs)
        # CLOCK_MONOTONIC (perf_counter on Linux) is one clock for every process of the machine.
        t = time.perf_counter()
        size = len(json.dumps(data, separators=(",", ":")).encode()) if self.measure else None
        self.report(("seen", data["seq"], t, bool(panes) and panes[0]["step"] == data["view"].get("step"), size))

    def call(self, event, data):
        return self.sio.call(event, data, namespace=NS, timeout=60)


def follower_process(urls, code, k, out, commands, first):
    """A process of k followers: students have their own devices, so the clients' own Python work
    must not queue behind one GIL and count as the server's time."""
    packs = {u: Packs(u) for u in urls}
    with ThreadPoolExecutor(8) as pool:
        followers = list(pool.map(lambda j: Follower(urls[(first + j) % len(urls)], code, out.put,
                                                     packs[urls[(first + j) % len(urls)]],
                                                     measure=first == 0 and j == 0), range(k)))
    out.put(("ready", k, sum(p.fetched for p in packs.values()), sum(p.bytes for p in packs.values())))
    while True:
        cmd = commands.get()
        if cmd[0] == "stop":
            break
        if cmd[0] == "cpu":
            out.put(("cpu", time.process_time()))
        if cmd[0] == "vote":
            _, start, spacing, first_index, choices = cmd

            def vote(j):
                i = first_index + j
                delay = start + spacing * j - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                t = time.perf_counter()
                ok = followers[j].call("room_vote", {"choice": choices[i % len(choices)]})["ok"]
                return t, ok

            with ThreadPoolExecutor(min(k, 64)) as pool:
                for t, ok in pool.map(vote, range(k)):
                    out.put(("voted", t, ok))
    for f in followers:
        try:
            f.sio.disconnect()
        except Exception:
            pass


class Board:
    """Collects the followers' reports (one queue for all processes) and answers waits."""

    def __init__(self, n, inbox):
        self.n = n
        self.inbox = inbox
        self.count = {}
        self.last = {}
        self.right = {}
        self.sizes = {}
        self.votes = []
        self.cpu = []

    def pump(self, until, timeout):
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                msg = self.inbox.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if msg[0] == "seen":
                _, seq, t, right, size = msg
                self.count[seq] = self.count.get(seq, 0) + 1
                self.last[seq] = max(self.last.get(seq, 0), t)
                self.right[seq] = self.right.get(seq, 0) + right
                if size is not None:
                    self.sizes[seq] = size
            elif msg[0] == "voted":
                self.votes.append(msg[1:])
            elif msg[0] == "cpu":
                self.cpu.append(msg[1])
        return True

    def wait_all(self, seq, timeout=10.0):
        if not self.pump(lambda: self.count.get(seq, 0) >= self.n, timeout):
            return None
        return self.last[seq]

    def followers_cpu(self, commands):
        self.cpu = []
        for cq in commands:
            cq.put(("cpu",))
        self.pump(lambda: len(self.cpu) >= len(commands), 20)
        return sum(self.cpu)


def server_cpu(procs):
    """The server processes' CPU seconds so far (user + system), or None (not started here, not Linux)."""
    total = 0.0
    try:
        for proc in procs:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    return total if procs else None


def settle(procs, limit=60.0) -> float:
    """Wait until the servers are idle (done starting).  Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        a = server_cpu(procs)
        time.sleep(1)
        b = server_cpu(procs)
        if a is None or b - a < 0.05 * len(procs):
            break
    return time.monotonic() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--followers", type=int, default=200)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--processes", type=int, default=4, help="processes the followers' clients run in")
    ap.add_argument("--production", action="store_true", help="start the server with --production (gevent)")
    ap.add_argument("--redis", action="store_true",
                    help="start a redis-server and the server(s) with --message-queue (rooms in Redis)")
    ap.add_argument("--servers", type=int, default=1,
                    help="with --redis: server processes; the presenter is on the first, followers spread over all")
    ap.add_argument("--url", help="a running server (default: start one)")
    args = ap.parse_args(argv)
    n = max(1, min(args.followers, 1000))
    steps_wanted = max(50, args.steps)

    procs, urls, redis_proc = [], [], None
    folder = tempfile.mkdtemp(prefix="bench-classroom-")
    if args.url:
        urls = [args.url]
    else:
        # --no-warm: the start-up warm-up lays out every walkthrough, which is not the steps' CPU; the
        # presenter's `open` lays out the one used here before anything is timed.
        extra = ["--no-warm"] + (["--production"] if args.production else [])
        if args.redis:
            from tests.web import services
            redis_proc, redis_url = services.start_redis(folder)
            extra += ["--message-queue", redis_url]
        for _ in range(max(1, args.servers if args.redis else 1)):
            proc, url = start_server(scenarios=os.path.join(ROOT, "scenarios"), extra=extra, quiet=True)
            procs.append(proc)
            urls.append(url)
    url = urls[0]
    workers = []
    try:
        if procs:
            settle(procs)
        page = requests.get(f"{url}/present/{NAME}", timeout=30).text
        boot = json.loads(re.search(r'id="room-boot">(.*?)</script>', page, re.S).group(1))
        code, secret = boot["code"], boot["secret"]
        presenter = socketio.Client(reconnection=False)
        tallies = []
        tally_lock = threading.Condition()

        def on_tally(data):
            with tally_lock:
                tallies.append((time.perf_counter(), sum(data["tally"].values())))
                tally_lock.notify_all()

        presenter.on("room_tally", on_tally, namespace=NS)
        presenter.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=20)
        call = lambda e, d=None: presenter.call(e, d, namespace=NS, timeout=60)   # noqa: E731
        assert call("room_claim", {"code": code, "secret": secret})["ok"]
        opened = call("open", {"name": NAME, "eras": ["5.9"], "step": 0})
        assert opened["ok"], opened
        total = len(opened["scenario"]["steps"])
        asks = [s["index"] for s in opened["scenario"]["steps"] if s["ask"]]
        assert call("room_view", {})["ok"]

        ctx = mp.get_context("spawn")
        inbox = ctx.Queue()
        sizes = [n // args.processes + (1 if i < n % args.processes else 0) for i in range(args.processes)]
        commands = [ctx.Queue() for k in sizes if k]
        t0 = time.perf_counter()
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        workers = [ctx.Process(target=follower_process, args=(urls, code, k, inbox, cq, s), daemon=True)
                   for k, cq, s in zip([k for k in sizes if k], commands, starts)]
        for w in workers:
            w.start()
        board = Board(n, inbox)
        ready, fetched, fetched_bytes = [], 0, 0
        deadline = time.monotonic() + 120
        while sum(ready) < n and time.monotonic() < deadline:
            try:
                msg = inbox.get(timeout=1)
            except queue.Empty:
                if not all(w.is_alive() for w in workers):
                    raise RuntimeError("a follower process died while connecting")
                continue
            if msg[0] == "ready":
                ready.append(msg[1])
                fetched += msg[2]
                fetched_bytes += msg[3]
        if sum(ready) < n:
            raise RuntimeError(f"only {sum(ready)} of {n} followers joined within 120 s")
        mode = ("production (gevent)" if args.production else "default (threading)") + \
            (f", rooms in Redis, {len(urls)} server process{'es' if len(urls) > 1 else ''}" if args.redis else "")
        print(f"cowviz classroom benchmark: 1 presenter + {n} followers on {', '.join(urls)}, server {mode} "
              f"(python-socketio over websocket; followers in {len(workers)} processes)")
        print(f"  {n} followers connected and joined in {time.perf_counter() - t0:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if fetched:
            print(f"  on joining: {fetched} pack fetches (one per follower process: a device's HTTP cache), "
                  f"{fetched_bytes / fetched / 1000:.1f} KB each as sent")

        # 1. Steps: forwards and back over the walkthrough, revealed (questions do not hold it up here).
        plan = []
        while len(plan) < steps_wanted:
            plan += list(range(1, total + 1)) + list(range(total - 1, 0, -1))
        plan = plan[:steps_wanted]
        broadcast, with_step, missed, seqs = [], [], 0, []
        cpu0 = server_cpu(procs)
        fcpu0 = board.followers_cpu(commands)
        for step in plan:
            ts = time.perf_counter()
            assert call("step", {"step": step, "reveal": True})["ok"]
            tv = time.perf_counter()
            reply = call("room_view", {})
            seqs.append(reply["seq"])
            last = board.wait_all(reply["seq"])
            if last is None:
                missed += 1
                continue
            broadcast.append((last - tv) * 1000)
            with_step.append((last - ts) * 1000)
            time.sleep(0.25)        # far quicker than a lecturer, slow enough that each step is timed alone
        cpu = server_cpu(procs)
        fcpu = board.followers_cpu(commands)
        load = os.getloadavg()[0]
        print(f"\n1. step, presenter's room_view -> last of {n} followers ({len(plan)} steps; load average {load:.1f}):")
        print(f"   {summary(broadcast)}   target p95 <= 100 ms: {'met' if pct(broadcast, 95) <= 100 else 'NOT met'}")
        print(f"   with the presenter's own step round trip first:  {summary(with_step)}")
        if missed:
            print(f"   {missed} steps did not reach every follower within 10 s")
        if cpu is not None and cpu0 is not None:
            print(f"   server CPU per step (its step reply, room_view, and the broadcast to {n}): "
                  f"{(cpu - cpu0) / len(plan) * 1000:.1f} ms   (what latency approaches on an idle core)")
        print(f"   followers' CPU per step, all {n} clients together: {(fcpu - fcpu0) / len(plan) * 1000:.1f} ms "
              f"({(fcpu - fcpu0) / len(plan) / n * 1e6:.0f} us per follower)")
        sizes_seen = [board.sizes[s] for s in seqs if s in board.sizes]
        if sizes_seen:
            print(f"   bytes per broadcast (the message's JSON): median {statistics.median(sizes_seen):.0f}, "
                  f"max {max(sizes_seen)}")
        right = sum(1 for s in seqs if board.right.get(s) == board.count.get(s) == n)
        print(f"   {right} of {len(seqs)} broadcasts: every follower held that step's panes")

        # 2. A poll: N votes spread over 2 s.
        ask = asks[0]
        call("step", {"step": ask})
        call("room_view", {})
        opened = call("room_poll", {"action": "open"})
        assert opened["ok"], opened
        choices = opened["room"]["poll"]["choices"]
        time.sleep(0.5)
        start = time.perf_counter() + 0.3
        spacing = 2.0 / n
        first = 0
        for k, cq in zip([k for k in sizes if k], commands):
            # Follower i of all votes at start + i * spacing: interleaved over the processes.
            cq.put(("vote", start + first * spacing, spacing * len(workers), first, choices))
            first += 1
        board.pump(lambda: len(board.votes) >= n, 30)
        sent = [t for t, _ in board.votes]
        oks = [ok for _, ok in board.votes]
        with tally_lock:
            deadline = time.monotonic() + 10
            while not (tallies and tallies[-1][1] >= n) and time.monotonic() < deadline:
                tally_lock.wait(0.5)
            held = next((t for t, count in tallies if count >= n), None)
        final = call("room_poll", {"action": "reveal"})["tally"]
        print(f"\n2. poll: {sum(oks)} of {n} votes accepted, sent over {(max(sent) - min(sent)):.2f} s; "
              f"the presenter's tally counted {sum(final.values())}")
        if held is not None:
            print(f"   presenter holds all {n}: {(held - min(sent)) * 1000:.0f} ms after the first vote was sent, "
                  f"{(held - max(sent)) * 1000:.0f} ms after the last")
        else:
            print("   the presenter's live tally did not reach every vote within 10 s")
        for cq in commands:
            cq.put(("stop",))
        for w in workers:
            w.join(timeout=20)
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
        for proc in procs:
            stop_server(proc)
        if redis_proc is not None:
            from tests.web import services
            services.stop(redis_proc)


if __name__ == "__main__":
    main()
