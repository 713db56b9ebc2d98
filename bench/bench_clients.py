"""Benchmark: a whole class at once.  N Socket.IO clients against one server, for each N.

For each N a fresh server (or, with --reuse-server, one for all) is started the way a user starts it (`python app.py --port P`, or with
`--production`), from this checkout or from another one (`--app-dir`, to measure an older commit
with the same scenarios).  If the server warms the shipped walkthroughs in the background (it
prints "walkthroughs ready"), the clients wait for that line first, as a class arriving after the
lecturer started the server would.  Then, all on loopback:

1. connect: N clients open a Socket.IO connection to /cowviz (websocket transport, at most 50
   handshakes in flight); a refusal (the server is full) is counted with its message.
2. open:    every client sends `open` at the same instant, each for a different walkthrough and
   era (the shipped walkthroughs x their eras, in turn), and times the acknowledgement ("cpu ms":
   the server's CPU time per open; the 0.5 s wait before the opens is counted in it too).
3. fast:    for --fast-seconds every client steps through its walkthrough as fast as it can
   (the next `step` goes out as soon as the previous one is acknowledged).  "cpu ms" is the
   server's CPU time per step in this phase: unlike latencies, it hardly depends on the load
   other programs put on the machine; "cli ms" is the benchmark's own clients' CPU time per step
   (they share the machine's cores with the server).  "load" is the 1-minute load average when
   that N started.
4. human:   for --human-seconds every client steps at a human pace: one `step` every 1.5-4.5 s
   (uniformly at random, 3 s on average).

Targets (issue 14): open p95 <= 300 ms at N=200; fast step p95 <= 50 ms at N=200 (production
mode); human step p95 < 100 ms at N=1000 (production mode); past the configured client limit,
a clear refusal and no collapse.

The clients are a small Socket.IO-over-WebSocket client written for this benchmark (asyncio,
no JSON decoding of the replies: it checks that each acknowledgement starts `[{"ok":true`), spread
over --workers processes, so the load generator costs the server as little CPU as possible.  The
server and the clients share this machine's cores; the table notes the load average.

    .venv/bin/python bench/bench_clients.py [--production] [--ns 1,10,50,100,200,400,800,1000]
        [--fast-seconds 8] [--human-seconds 15] [--app-dir DIR] [--max-clients M] [--storm]

--storm adds a pass with the large numbers of issue 14 against one server: 1,000 half-sent HTTP
requests held open while 20 fresh clients connect, open and step; then a storm of 6,000 TCP
connects (each sending a Socket.IO handshake), timing a fresh client's connect during and after it.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import random
import json
import resource
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

NS = "/cowviz"
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


# -- a minimal Socket.IO client (Engine.IO 4 over WebSocket) ---------------------------------------

class Refused(Exception):
    """The server refused the connection: the message says why."""


class RawClient:
    """One Socket.IO connection to /cowviz over a WebSocket, with acknowledged emits."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None
        self.acks: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.connected = asyncio.get_running_loop().create_future()
        self.task = None

    async def connect(self, timeout: float = REQUEST_TIMEOUT) -> None:
        await asyncio.wait_for(self._connect(), timeout)

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port, limit=1 << 22)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                           f"Host: {HOST}:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        if " 101 " not in status + " ":
            body = b""
            try:
                body = await asyncio.wait_for(self.reader.read(300), 2)
            except (asyncio.TimeoutError, OSError):
                pass
            self.close()
            raise Refused(f"{status.strip()} {body.decode('utf-8', 'replace').strip()}"[:160])
        first = await self._read_message()
        if not first.startswith(b"0"):
            raise ConnectionError(f"unexpected Engine.IO open packet {first[:40]!r}")
        self._send(f"40{NS},")
        self.task = asyncio.ensure_future(self._read_loop())
        await self.connected

    async def _read_message(self) -> bytes:
        parts = []
        while True:
            h = await self.reader.readexactly(2)
            fin, op, n = h[0] & 0x80, h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            mask = await self.reader.readexactly(4) if h[1] & 0x80 else None
            data = await self.reader.readexactly(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if op == 8:
                raise ConnectionError("the server closed the WebSocket")
            if op == 9:
                self._frame(0xA, data)
                continue
            if op == 10:
                continue
            parts.append(data)
            if fin:
                return b"".join(parts)

    async def _read_loop(self) -> None:
        prefix_ack = f"43{NS},".encode()
        try:
            while True:
                msg = await self._read_message()
                if msg == b"2":                               # Engine.IO ping
                    self._send("3")
                elif msg.startswith(prefix_ack):
                    rest = msg[len(prefix_ack):]
                    i = rest.index(b"[")
                    fut = self.acks.pop(int(rest[:i]), None)
                    if fut is not None and not fut.done():
                        fut.set_result(rest[i:].startswith(b'[{"ok":true'))
                elif msg.startswith(f"40{NS},".encode()):
                    if not self.connected.done():
                        self.connected.set_result(True)
                elif msg.startswith(f"44{NS},".encode()):
                    if not self.connected.done():
                        self.connected.set_exception(Refused(msg[len(NS) + 3:].decode("utf-8", "replace")[:160]))
                elif msg.startswith(b"1"):
                    raise ConnectionError("the server closed the Engine.IO session")
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            err = e if isinstance(e, ConnectionError) else ConnectionError(str(e) or type(e).__name__)
            if not self.connected.done():
                self.connected.set_exception(err)
            for fut in self.acks.values():
                if not fut.done():
                    fut.set_exception(err)
            self.acks.clear()

    def _frame(self, op: int, data: bytes) -> None:
        n = len(data)
        if n < 126:
            head = bytes([0x80 | op, 0x80 | n])
        elif n < 65536:
            head = bytes([0x80 | op, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x80 | op, 0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        body = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big") if n else b""
        self.writer.write(head + mask + body)

    def _send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    async def call(self, event: str, data: dict, timeout: float = REQUEST_TIMEOUT) -> bool:
        """Emit with an acknowledgement; True if the reply is {"ok": true, ...}."""
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.acks[self.next_id] = fut
        self._send(f"42{NS},{self.next_id}" + json.dumps([event, data], separators=(",", ":")))
        return await asyncio.wait_for(fut, timeout)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass


# -- a worker process: a share of the clients, driven phase by phase --------------------------------

async def _worker(conn, port: int, specs: list) -> None:
    loop = asyncio.get_running_loop()
    clients: list = []
    while True:
        cmd, arg = await loop.run_in_executor(None, conn.recv)
        if cmd == "connect":
            sem = asyncio.Semaphore(max(1, arg))
            times, refused, errors = [], [], []

            async def one(spec):
                async with sem:
                    c = RawClient(port)
                    t0 = time.perf_counter()
                    try:
                        await c.connect()
                    except Refused as e:
                        refused.append(str(e))
                        c.close()
                        return
                    except Exception as e:                     # noqa: BLE001 -- counted, reported
                        errors.append(f"{type(e).__name__}: {e}"[:120])
                        c.close()
                        return
                    times.append((time.perf_counter() - t0) * 1000)
                    c.spec = spec
                    clients.append(c)
            await asyncio.gather(*(one(s) for s in specs))
            conn.send({"times": times, "refused": refused, "errors": errors})
        elif cmd == "open":
            start = arg
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            times, errors = [], []

            async def opener(c):
                name, era, _ = c.spec
                t0 = time.perf_counter()
                try:
                    ok = await c.call("open", {"name": name, "eras": [era], "reveal": True})
                except Exception as e:                         # noqa: BLE001
                    errors.append(f"{type(e).__name__}: {e}"[:120])
                    return
                times.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    errors.append(f"open {name} {era}: not ok")
            await asyncio.gather(*(opener(c) for c in clients))
            conn.send({"times": times, "errors": errors})
        elif cmd in ("fast", "human"):
            start, seconds, pace = arg
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            deadline = time.monotonic() + seconds
            times, errors = [], []
            cpu0 = _cpu_seconds()

            async def stepper(c, k):
                rnd = random.Random(k)
                total = c.spec[2]
                step = 0
                if pace:                                       # humans do not all click at once
                    await asyncio.sleep(rnd.uniform(0, pace[1]))
                while time.monotonic() < deadline:
                    step = step % total + 1
                    t0 = time.perf_counter()
                    try:
                        ok = await c.call("step", {"step": step, "reveal": True})
                    except Exception as e:                     # noqa: BLE001
                        errors.append(f"{type(e).__name__}: {e}"[:120])
                        return
                    times.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        errors.append("step: not ok")
                    if pace:
                        await asyncio.sleep(rnd.uniform(*pace))
            await asyncio.gather(*(stepper(c, k) for k, c in enumerate(clients)))
            conn.send({"times": times, "errors": errors, "cpu": [_cpu_seconds() - cpu0]})
        elif cmd == "close":
            for c in clients:
                c.close()
            await asyncio.sleep(0.2)
            conn.send({})
            return


def _cpu_seconds() -> float:
    """CPU time (user + system) this process has used."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker_main(conn, port, specs):
    asyncio.run(_worker(conn, port, specs))


# -- the server under test --------------------------------------------------------------------------

class Server:
    """`python app.py --port P [extra]` from app_dir, its output drained, its resources sampled."""

    def __init__(self, app_dir: str, extra: list, scenarios: str):
        with socket.socket() as s:
            s.bind((HOST, 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("COWVIZ_LAB", None)
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port), *extra],      # the shipped scenarios (= `scenarios`)
            cwd=app_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines: list = []
        self.warming = threading.Event()
        self.ready = threading.Event()
        self.peak_threads = self.peak_rss = 0
        self._sampling = False
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_http()

    def _drain(self):
        for line in self.proc.stdout:
            if len(self.lines) < 2000:
                self.lines.append(line.rstrip())
            if "warming" in line:
                self.warming.set()
            if "walkthroughs ready" in line:
                self.ready.set()

    def _wait_http(self):
        import requests
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + "\n".join(self.lines[-20:]))
            try:
                if requests.get(f"http://{HOST}:{self.port}/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not answer within 60 s")

    def wait_warm(self, limit: float = 300) -> float | None:
        """Seconds waited for the background warm-up (None when the server does not warm)."""
        t0 = time.monotonic()
        if not self.warming.wait(1.5):
            return None
        self.ready.wait(limit)
        return time.monotonic() - t0

    def stats(self) -> tuple[int, int]:
        threads = rss = 0
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        threads = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) // 1024
        except OSError:
            pass
        return threads, rss

    def cpu(self) -> float:
        """CPU seconds the server has used (user + system)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def sample(self):
        self._sampling = True

        def loop():
            while self._sampling:
                t, r = self.stats()
                self.peak_threads, self.peak_rss = max(self.peak_threads, t), max(self.peak_rss, r)
                time.sleep(0.25)
        threading.Thread(target=loop, daemon=True).start()

    def stop(self):
        self._sampling = False
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def walkthroughs(scenarios: str) -> list:
    """(name, era, steps) for every shipped walkthrough and era."""
    from cowviz.web.library import Library
    out = []
    for e in Library(scenarios).entries():
        if e.scenario is not None:
            for era in e.scenario.eras:
                out.append((e.name, era, len(e.scenario.steps)))
    return out


# -- one N --------------------------------------------------------------------------------------

def run_n(n: int, args, pairs: list, shared=None) -> dict:
    server = shared or Server(args.app_dir, args.extra, args.scenarios)
    row = {"n": n, "load": os.getloadavg()[0]}
    try:
        row["warm_s"] = server.wait_warm() if shared is None or not server.ready.is_set() else None
        server.peak_threads = server.peak_rss = 0
        server.sample()
        specs = [pairs[i % len(pairs)] for i in range(n)]
        k = 1 if n < 100 else args.workers
        shares = [specs[i::k] for i in range(k)]
        pipes, procs = [], []
        for share in shares:
            a, b = mp.Pipe()
            p = mp.Process(target=worker_main, args=(b, server.port, share), daemon=True)
            p.start()
            pipes.append(a)
            procs.append(p)

        def phase(cmd, arg, timeout):
            for a in pipes:
                a.send((cmd, arg))
            out = {"times": [], "errors": [], "refused": [], "cpu": []}
            deadline = time.monotonic() + timeout
            for a in pipes:
                if not a.poll(max(0.1, deadline - time.monotonic())):
                    out["errors"].append(f"{cmd}: a worker did not finish within {timeout:.0f} s")
                    continue
                got = a.recv()
                for key in out:
                    out[key] += got.get(key, [])
            return out

        c = phase("connect", max(1, 50 // k), 120)
        row.update(connected=len(c["times"]), connect_p95=pct(c["times"], 95), refused=len(c["refused"]),
                   refusal=c["refused"][0] if c["refused"] else "", errors=list(c["errors"]))
        if row["connected"]:
            cpu0 = server.cpu()
            o = phase("open", time.monotonic() + 0.5, 150)
            row["open_cpu"] = (server.cpu() - cpu0) * 1000 / max(1, len(o["times"]))
            row.update(open_p50=pct(o["times"], 50), open_p95=pct(o["times"], 95), open_max=max(o["times"], default=0))
            row["errors"] += o["errors"]
            cpu0 = server.cpu()
            f = phase("fast", (time.monotonic() + 0.5, args.fast_seconds, None), args.fast_seconds + 60)
            row["fast_cpu"] = (server.cpu() - cpu0) * 1000 / max(1, len(f["times"]))
            row["fast_client_cpu"] = sum(f["cpu"]) * 1000 / max(1, len(f["times"]))
            row.update(fast_p50=pct(f["times"], 50), fast_p95=pct(f["times"], 95), fast_p99=pct(f["times"], 99),
                       fast_rate=len(f["times"]) / args.fast_seconds)
            row["errors"] += f["errors"]
            h = phase("human", (time.monotonic() + 0.5, args.human_seconds, (1.5, 4.5)), args.human_seconds + 60)
            row.update(human_p50=pct(h["times"], 50), human_p95=pct(h["times"], 95), human_p99=pct(h["times"], 99),
                       human_count=len(h["times"]))
            row["errors"] += h["errors"]
        phase("close", None, 30)
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
        row["threads"], row["rss"] = server.peak_threads, server.peak_rss
        row["alive"] = server.proc.poll() is None
    finally:
        if shared is None:
            server.stop()
        else:
            server._sampling = False
            time.sleep(2)                                  # let the server see the clients leave
    return row


def fmt(v, width=6, digits=0):
    if v is None or v != v:
        return "-".rjust(width)
    return f"{v:{width}.{digits}f}"


def print_table(rows, title):
    print(title)
    print(f"{'N':>5} {'warm s':>6} {'conn':>5} {'refus':>5} {'c p95':>6} | {'open p50':>8} {'p95':>6} {'max':>6} {'cpu ms':>6} | "
          f"{'fast p50':>8} {'p95':>6} {'p99':>6} {'req/s':>6} {'cpu ms':>6} {'cli ms':>6} | {'human p50':>9} {'p95':>6} {'p99':>6} | "
          f"{'thr':>5} {'RSS MB':>6} {'load':>5} errors")
    for r in rows:
        errs = r.get("errors", [])
        note = f"{len(errs)} ({errs[0]})" if errs else "0"
        if r.get("refusal"):
            note += f"; refusal: {r['refusal']}"
        if not r.get("alive", True):
            note += "; SERVER DIED"
        print(f"{r['n']:5d} {fmt(r.get('warm_s'), 6, 1)} {r.get('connected', 0):5d} {r.get('refused', 0):5d} "
              f"{fmt(r.get('connect_p95'))} | {fmt(r.get('open_p50'), 8)} {fmt(r.get('open_p95'))} "
              f"{fmt(r.get('open_max'))} {fmt(r.get('open_cpu'), 6, 2)} | {fmt(r.get('fast_p50'), 8, 1)} {fmt(r.get('fast_p95'), 6, 1)} "
              f"{fmt(r.get('fast_p99'), 6, 1)} {fmt(r.get('fast_rate'))} {fmt(r.get('fast_cpu'), 6, 2)} {fmt(r.get('fast_client_cpu'), 6, 2)} | {fmt(r.get('human_p50'), 9, 1)} "
              f"{fmt(r.get('human_p95'), 6, 1)} {fmt(r.get('human_p99'), 6, 1)} | {r.get('threads', 0):5d} "
              f"{r.get('rss', 0):6d} {fmt(r.get('load'), 5, 2)} {note}", flush=True)


# -- the storm pass -----------------------------------------------------------------------------

def storm(args, pairs) -> None:
    """1,000 half-sent requests, then 6,000 connects: does a fresh client still get served?"""
    server = Server(args.app_dir, args.extra, args.scenarios)
    try:
        server.wait_warm()
        server.sample()
        held = []
        t0 = time.monotonic()
        for _ in range(args.slow_requests):
            s = socket.socket()
            s.setblocking(True)
            try:
                s.connect((HOST, server.port))
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")      # never finished
                held.append(s)
            except OSError:
                s.close()
                break
        time.sleep(1.0)
        threads_held = server.stats()[0]
        res = _fresh_clients(server.port, pairs, 20)
        print(f"Slow requests: {len(held)} half-sent HTTP requests held open ({time.monotonic() - t0:.1f} s to send); "
              f"server threads {threads_held}; 20 fresh clients: connected {res['connected']}, "
              f"connect p95 {fmt(res['connect_p95'])} ms, open p95 {fmt(res['open_p95'])} ms, "
              f"step p95 {fmt(res['step_p95'], 1, 1)} ms, errors {len(res['errors'])} {res['errors'][:1]}")
        time.sleep(args.header_wait)
        still = 0
        for s in held:
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    continue
                still += 1
            except BlockingIOError:
                still += 1
            except OSError:
                pass
        print(f"  after {args.header_wait:.0f} s more: {still} of {len(held)} still held open by the server; "
              f"threads {server.stats()[0]}")
        for s in held:
            s.close()

        # A storm of connects: many sockets each sending the first request of a Socket.IO connection
        # (the Engine.IO handshake), as fast as we can open them; they stay open until the end.
        stop = threading.Event()
        counts = {"opened": 0, "failed": 0}
        socks = []

        def flood():
            while not stop.is_set() and counts["opened"] + counts["failed"] < args.storm_connects:
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect((HOST, server.port))
                    s.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    socks.append(s)
                    counts["opened"] += 1
                except OSError:
                    counts["failed"] += 1
                    s.close()
        flooders = [threading.Thread(target=flood, daemon=True) for _ in range(8)]
        t0 = time.monotonic()
        for t in flooders:
            t.start()
        time.sleep(0.5)
        during = _fresh_clients(server.port, pairs, 5)
        for t in flooders:
            t.join(120)
        flood_s = time.monotonic() - t0
        peak = server.peak_threads
        for s in socks:
            s.close()
        time.sleep(2)
        after = _fresh_clients(server.port, pairs, 5)
        print(f"Connect storm: {counts['opened']} connects sent a Socket.IO handshake in {flood_s:.1f} s "
              f"({counts['failed']} failed to connect); peak server threads {peak}; "
              f"fresh client during: connect p95 {fmt(during['connect_p95'])} ms, step p95 "
              f"{fmt(during['step_p95'], 1, 1)} ms ({during['connected']}/5 connected); after: connect p95 "
              f"{fmt(after['connect_p95'])} ms, step p95 {fmt(after['step_p95'], 1, 1)} ms "
              f"({after['connected']}/5); server alive: {server.proc.poll() is None}; peak RSS {server.peak_rss} MB")
    finally:
        server.stop()


def _fresh_clients(port, pairs, n) -> dict:
    async def go():
        out = {"connect": [], "open": [], "step": [], "errors": []}

        async def one(spec):
            c = RawClient(port)
            t0 = time.perf_counter()
            try:
                await c.connect(timeout=20)
                out["connect"].append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                await c.call("open", {"name": spec[0], "eras": [spec[1]], "reveal": True}, timeout=20)
                out["open"].append((time.perf_counter() - t0) * 1000)
                for step in range(1, spec[2] + 1):
                    t0 = time.perf_counter()
                    await c.call("step", {"step": step, "reveal": True}, timeout=20)
                    out["step"].append((time.perf_counter() - t0) * 1000)
            except Exception as e:                             # noqa: BLE001
                out["errors"].append(f"{type(e).__name__}: {e}"[:100])
            finally:
                c.close()
        await asyncio.gather(*(one(pairs[i % len(pairs)]) for i in range(n)))
        return out
    out = asyncio.run(go())
    return {"connected": len(out["connect"]), "connect_p95": pct(out["connect"], 95),
            "open_p95": pct(out["open"], 95), "step_p95": pct(out["step"], 95), "errors": out["errors"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="1,10,50,100,200,400,800,1000")
    ap.add_argument("--production", action="store_true", help="start the server with --production")
    ap.add_argument("--max-clients", type=int, help="pass --max-clients M to the server")
    ap.add_argument("--app-dir", default=ROOT, help="the checkout whose app.py is measured (default: this one)")
    ap.add_argument("--fast-seconds", type=float, default=8.0)
    ap.add_argument("--human-seconds", type=float, default=15.0)
    ap.add_argument("--workers", type=int, default=2, help="client processes for N >= 100 (default 2)")
    ap.add_argument("--reuse-server", action="store_true",
                    help="one server for every N (it warms once; the opens of later Ns find the layouts the "
                         "earlier ones made, so use it only for a server that warms at start-up)")
    ap.add_argument("--storm", action="store_true", help="also run the slow-request and connect-storm pass")
    ap.add_argument("--storm-only", action="store_true")
    ap.add_argument("--slow-requests", type=int, default=1000)
    ap.add_argument("--storm-connects", type=int, default=6000)
    ap.add_argument("--header-wait", type=float, default=12.0, help="seconds to wait before counting held requests")
    args = ap.parse_args(argv)
    args.app_dir = os.path.abspath(args.app_dir)
    args.scenarios = os.path.join(args.app_dir, "scenarios")
    args.extra = (["--production"] if args.production else []) + (
        ["--max-clients", str(args.max_clients)] if args.max_clients else [])
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    pairs = walkthroughs(args.scenarios)
    git = subprocess.run(["git", "-C", args.app_dir, "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    load = os.getloadavg()
    title = (f"{len(pairs)} walkthrough x era pairs; server: {'production' if args.production else 'default'} mode "
             f"{' '.join(args.extra)} at {git.stdout.strip() or args.app_dir}; "
             f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if not args.storm_only:
        rows = []
        shared = Server(args.app_dir, args.extra, args.scenarios) if args.reuse_server else None
        try:
            for n in [int(x) for x in args.ns.split(",") if x]:
                rows.append(run_n(n, args, pairs, shared))
                print_table(rows[-1:], title if len(rows) == 1 else "")
        finally:
            if shared is not None:
                shared.stop()
        print()
        print_table(rows, f"Summary. {title}")
        r200 = next((r for r in rows if r["n"] == 200), None)
        if r200 is not None:
            print(f"N=200: open p95 {fmt(r200.get('open_p95'), 1)} ms (target <= 300: "
                  f"{'met' if r200.get('open_p95', 1e9) <= 300 else 'NOT MET'}); fast step p95 "
                  f"{fmt(r200.get('fast_p95'), 1, 1)} ms (target <= 50 in production mode: "
                  f"{'met' if r200.get('fast_p95', 1e9) <= 50 else 'NOT MET'})")
        r1000 = next((r for r in rows if r["n"] == 1000), None)
        if r1000 is not None:
            print(f"N=1000: human step p95 {fmt(r1000.get('human_p95'), 1, 1)} ms (target < 100 in production mode: "
                  f"{'met' if r1000.get('human_p95', 1e9) < 100 else 'NOT MET'})")
    if args.storm or args.storm_only:
        print(f"Storm pass ({title})")
        storm(args, pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
